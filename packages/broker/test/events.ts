import { randomUUID } from "node:crypto";
import type { MessageSubmitted } from "@correo/contracts";

/** A valid message.submitted event with fresh ids, one delivery to `recipient`. */
export function submitted(recipient = "bob@example.test"): MessageSubmitted {
  return {
    type: "message.submitted",
    version: 1,
    messageId: randomUUID(),
    blobId: "b".repeat(64),
    envelopeFrom: "alice@example.test",
    deliveries: [{ deliveryId: randomUUID(), recipient }],
    submittedAt: new Date().toISOString(),
  };
}
