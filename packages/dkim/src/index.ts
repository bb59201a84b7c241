export { generateDkimKey, dkimTxtRecord, type DkimKeyPair, type DkimTxtRecord } from "./keys.js";
export { saveDkimKey, findDkimKey, listDkimKeys, removeDkimKey, DkimKeyError, type DkimKey } from "./store.js";
export { signMessage, fromDomain, type SigningKey } from "./sign.js";
export { sealForwarded, ourAuthenticationResults, txtResolver, type SealOptions, type SealOutcome, type TxtResolver } from "./arc.js";
