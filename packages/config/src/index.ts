export {
  type Field,
  text,
  optionalText,
  port,
  positiveInt,
  url,
  duration,
  durationOrOff,
  parseDuration,
  hostname,
  namePrefix,
  oneOf,
} from "./fields.js";
export { loadConfig, variablesOf, ConfigError, type ConfigOf, type ConfigProblem, type Spec } from "./load.js";
export { infraSpec, serviceSpecs, serviceNames, webhookAllowHttp, type ServiceName } from "./specs.js";
