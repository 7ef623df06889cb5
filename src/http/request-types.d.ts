// `req.powgate` for TypeScript users of Express and Fastify. The augmentations are inert
// where those packages' types are absent: a declaration file may augment a module it cannot find.
import type { Grant } from '../gate/options.js';

/** What a request that passed the gate carries on `req.powgate`: the token's fields and its calls used, this one included. */
export type PowgateGrant = Grant;

declare module 'express-serve-static-core' {
  interface Request {
    /** Set by powgateMiddleware on a request that passed the gate. */
    powgate?: PowgateGrant;
  }
}

declare module 'fastify' {
  interface FastifyRequest {
    /** Set by powgateFastify on a request that passed the gate; null before (and on routes it does not guard). */
    powgate: PowgateGrant | null;
  }
}
