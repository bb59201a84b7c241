export { CommandFramer, DEFAULT_LIMITS, type FramedLine, type FramerEvent, type FramerLimits } from "./framer.js";
export { parseCommand, ParseError, type ParsedCommand, type Token } from "./parser.js";
export { encodeValue, untagged, statusLine, continuation, atom, type ImapValue, type Completion } from "./encoder.js";
export { encodeMailboxName, decodeMailboxName } from "./mutf7.js";
export { parseSequenceSet, resolveSequenceNumbers, resolveUids, compactSet } from "./sequence.js";
export { sectionBytes, bodyStructureValue, envelopeValue, filterHeader, type SectionSpec } from "./body-section.js";
export { ImapSession, commandNameOf, type SessionIO, type SessionOptions, type SessionObserver, type SessionState, type LoginGuard, type LoginAttemptOutcome } from "./session.js";
export { IDLE_POLL_MS } from "./commands/idle.js";
export * from "./storage.js";
