// Loaded first by main.ts: OpenTelemetry must patch pg and ioredis before they are required.
// No HTTP API here (the ops server is never traced), so no http instrumentation.
import { startTelemetry } from "@correo/telemetry";

startTelemetry("relay-queue", { http: false });
