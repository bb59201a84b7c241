export {
  resolveRoute,
  createDns,
  parseDnsServers,
  describeRoute,
  type Route,
  type RouteSource,
  type Target,
  type Dns,
  type RouteDeps,
  type TransportOverride,
} from "./mx-resolver.js";
