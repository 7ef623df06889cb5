// powgate/http: the token service, the 402 middleware (node:http, Express, Fastify) and client addresses.
// Its own entry, so that importing powgate does not load prom-client or pino.
export { PowgateService } from './service.js';
export type { Handler, PowgateServiceOptions } from './service-options.js';
export { createPowgateServer, type ServerTimeouts } from './server.js';
export { VERIFY_STATUS } from './token-routes.js';
export { REMAINING_HEADER, powgateMiddleware, type PowgateRequest } from './middleware.js';
export { HttpGate, REFUSAL_STATUS, type GateRefusal, type PowgateMiddlewareOptions } from './http-gate.js';
export { powgateFastify, powgateFastifyHook, type PowgateFastifyOptions } from './fastify.js';
export { presentedToken } from './presented-token.js';
export type { PowgateGrant } from './request-types.js';
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
