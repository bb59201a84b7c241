export { runService, type ServiceContext, type ServiceConfig } from "./service.js";
export { InfraUnreachableError, probeInfra, probePostgres, probeRabbitMQ, probeRedis, redact, type InfraName } from "./infra.js";
export { registerObservers, type ObserverDeps } from "./observers.js";
