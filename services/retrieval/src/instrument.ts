// Loaded first by main.ts: OpenTelemetry must patch pg before it is required.
import { startTelemetry } from "@correo/telemetry";

startTelemetry("retrieval");
