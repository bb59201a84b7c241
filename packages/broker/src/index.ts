export { Broker, BrokerUnavailableError, type BrokerOptions, type DeliveryMeta, type Handler } from "./broker.js";
export { topology, type Topology, type WorkQueue, type QueueSpec } from "./topology.js";
export {
  DeadLetterQueue,
  DeadLetterQueueBusyError,
  DeadLetterUnroutableError,
  deadLetterJson,
  deadLetterDetailJson,
  type DeadLetter,
  type DeadLetterDetail,
  type DeadLetterPage,
  type DeadLetterQueueOptions,
} from "./dead-letters.js";
