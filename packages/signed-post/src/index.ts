export { SIGNATURE_HEADER, DEFAULT_TOLERANCE_SECONDS, signatureHeader, signatureOf, verifySignature, type SignatureCheck } from "./signature.js";
