/**
 * Where an attachment too big to inline is fetched: the submission HTTP API serves it
 * (streamed from the spool), relay-queue signs it (@correo/signed-post's signLink with the
 * route's secret). One definition for both.
 */
export const attachmentPath = (routeId: string, deliveryId: string, index: number) =>
  `/v1/inbound-routes/${routeId}/deliveries/${deliveryId}/attachments/${index}`;
