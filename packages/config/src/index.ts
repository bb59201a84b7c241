export {
  type Field,
  text,
  optionalText,
  port,
  positiveInt,
  url,
  optionalUrl,
  flag,
  parseFlag,
  duration,
  durationOrOff,
  parseDuration,
  hostname,
  namePrefix,
  oneOf,
  domainList,
  secretList,
  optionalHostname,
} from "./fields.js";
export { loadConfig, variablesOf, ConfigError, type ConfigOf, type ConfigProblem, type Spec } from "./load.js";
export { infraSpec, serviceSpecs, serviceNames, webhookAllowHttp, INBOUND_POLICIES, type InboundPolicy, type ServiceName } from "./specs.js";
