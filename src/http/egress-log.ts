// What a response really was when it left: its status as sent, whoever wrote it (our code, a
// framework, the MCP SDK's transport answering on its own), read from the response itself once
// it finished or its connection closed.
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Channel } from '../gate/events.js';
import { channelClassifier, type ChannelClassifier } from './channel.js';
import type { HttpMetrics } from './metrics.js';
import { pathOf } from './path.js';

/** pino's `info(fields, message)` (a pino logger fits). */
export interface EgressLogger {
  info(fields: Record<string, unknown>, message?: string): void;
}

/** Options of {@link watchEgress} and {@link egressLog}. */
export interface EgressOptions {
  /** A line per response at info: method, path (no query), status as sent (0: the connection closed first), ms, channel. Default: no logs. */
  logger?: EgressLogger | false;
  /** Where responses are counted (`http_requests_total`, with `route`). Default: not counted. */
  metrics?: HttpMetrics;
  /** The `route` label in `metrics`: a fixed name, never the request's path (unbounded). Default 'app'. */
  route?: string;
  /** The request's channel, or an operator's refinement of the standard one. Default: the standard rules (see {@link classifyChannel}). */
  channel?: Channel | ChannelClassifier;
}

/** A response being watched: fields to add to its line before it leaves. */
export interface EgressRecord {
  channel: Channel;
  /** Added to the response's log line. */
  fields: Record<string, unknown>;
}

/**
 * Logs and counts `res` when it has left (`finish`) or its connection closed first (`close`,
 * status 0), once. Never logs the query string, a header or a body.
 */
export function watchEgress(req: IncomingMessage, res: ServerResponse, options: EgressOptions = {}): EgressRecord {
  const started = performance.now();
  const channel = typeof options.channel === 'string' ? options.channel : channelClassifier(options.channel)(req);
  const record: EgressRecord = { channel, fields: {} };
  let done = false;
  const finish = () => {
    if (done) return;
    done = true;
    const status = res.writableFinished ? res.statusCode : 0;
    const method = req.method ?? '';
    options.metrics?.countRequest(options.route ?? 'app', method, status, channel);
    if (options.logger) {
      options.logger.info({ method, path: pathOf(req.url), status, ms: Math.round((performance.now() - started) * 100) / 100, channel, ...record.fields }, 'response');
    }
  };
  res.once('finish', finish);
  res.once('close', finish);
  return record;
}

/** {@link watchEgress} as a middleware for node:http, Express and Connect: `app.use(egressLog({ logger }))`. */
export function egressLog(options: EgressOptions = {}) {
  const classify = typeof options.channel === 'string' ? undefined : channelClassifier(options.channel);
  return function powgateEgress(req: IncomingMessage, res: ServerResponse, next: () => void): void {
    watchEgress(req, res, { ...options, channel: classify ? classify(req) : options.channel });
    next();
  };
}
