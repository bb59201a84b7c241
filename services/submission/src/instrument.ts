// Loaded first by main.ts: OpenTelemetry must patch http and pg before they are required.
import { startTelemetry } from "@correo/telemetry";

startTelemetry("submission");
