// powgate/http: the token service, the 402 middleware (node:http, Express, Fastify) and client addresses.
// Its own entry, so that importing powgate does not load prom-client or pino.
export { PowgateService, createPowgateServer, VERIFY_STATUS, type Handler, type PowgateServiceOptions, type ServerTimeouts } from './service.js';
export {
  HttpGate, REMAINING_HEADER, powgateMiddleware, powgateFastifyHook, presentedToken,
  type GateRefusal, type PowgateGrant, type PowgateMiddlewareOptions, type PowgateRequest,
} from './middleware.js';
export { hardenServer, type HardenServerOptions, type HardenedServer } from './harden-server.js';
export { ClientSlots } from './client-slots.js';
export { TrustedProxies, clientAddress, clientRateKey, normalizeAddress, requestClientAddress } from './client-address.js';
export { HttpMetrics, type HttpMetricsOptions } from './metrics.js';
export { discoveryHandler, type DiscoveryHandlerOptions } from './discovery.js';
export { READINESS_PATH, probeGate, readiness, readinessHandler, type GateHealth, type ReadinessOptions } from './readiness.js';
export { CORS_ALLOW_HEADERS, CORS_EXPOSE_HEADERS, type CorsOption } from './cors.js';
export { DISCOVERY_LINK_REL, DISCOVERY_PATH, discoveryLink } from '../gate/discovery.js';
export { GateMetrics, CHALLENGE_TO_REDEEM_BUCKETS } from './gate-metrics.js';
export { KNOWN_BOTS, channelClassifier, channelOfHeaders, classifyChannel, type ChannelClassifier, type ChannelOptions } from './channel.js';
export { DEGRADED_HEADER, degradedHeader } from './degraded.js';
export { egressLog, watchEgress, type EgressLogger, type EgressOptions, type EgressRecord } from './egress-log.js';
