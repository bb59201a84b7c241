export {
  srsForward,
  srsReverse,
  isSrsAddress,
  timestampOf,
  srsSettings,
  DEFAULT_MAX_AGE_DAYS,
  type SrsOptions,
  type SrsResult,
  type SrsRefusal,
  type SrsRefusalReason,
} from "./srs.js";
