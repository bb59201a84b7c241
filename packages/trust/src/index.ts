export { createTrustResolver, isTemporaryDnsError, DnsError, type TrustResolver, type TrustResolverOptions, type DnsAnswer } from "./dns-resolver.js";
export { checkIprev, reverseName, type Iprev, type IprevResult } from "./iprev.js";
export { verifyInbound, type InboundAuth, type MethodResult, type DmarcPolicy, type VerifyInput, type Verified } from "./verify.js";
export { stripForgedResults } from "./strip.js";
export { decideTrust, strictestMode, summarizeAuth, TRUST_MODES, type TrustMode, type TrustDecision, type TrustBasis } from "./decide.js";
