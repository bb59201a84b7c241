export { SIGNATURE_HEADER, DEFAULT_TOLERANCE_SECONDS, signatureHeader, signatureOf, verifySignature, type SignatureCheck } from "./signature.js";
export { signLink, verifyLink, linkSignature, type LinkCheck } from "./signed-link.js";
