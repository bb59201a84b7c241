export { startTestServers, urlsFromEnv, defaultUrls, type ServerUrls } from "./servers.js";
export { isolatedInfra, type IsolatedInfra, type IsolationOptions } from "./isolation.js";
export { freePort, spawnProcess, spawnService, waitForHttp, eventually, repoRoot, type RunningProcess } from "./processes.js";
export { forceCloseConnections } from "./rabbitmq.js";
export { startTcpProxy, type TcpProxy } from "./tcp-proxy.js";
export { allowConnections, closeAmqpConnections, killRedisClients, terminateBackends, terminateIdleInTransaction } from "./faults.js";
export { canStartPrivateRabbitMQ, startPrivateRabbitMQ, type PrivateRabbitMQ } from "./private-rabbitmq.js";
export { recordStatements, type StatementRecorder } from "./statements.js";
export { rawHttp, type RawHttpRequest, type RawHttpResponse } from "./raw-http.js";
