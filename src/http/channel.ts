// Channel attribution: which kind of caller a request comes from, so that an operator can tell a
// scanner's probes from their customers' calls. Rules (docs/OPERATIONS.md, "Metrics and logs"),
// first match wins:
//   1. bot      a User-Agent of a known crawler, scanner or crawling library (KNOWN_BOTS);
//   2. mcp_http a request to an MCP endpoint, or with the headers only MCP clients send;
//   3. browser  a browser's User-Agent (Mozilla/5.0 ... with an engine) with the headers only
//               browsers send (Sec-Fetch-*, Sec-CH-UA, or Accept of text/html);
//   4. api      anything else (curl, SDKs, agents, programs).
// An operator overrides it with a function that gets the request and this verdict.
import type { IncomingHttpHeaders, IncomingMessage } from 'node:http';
import { DEFAULT_CHANNEL, isChannel, type Channel } from '../gate/events.js';
import { invalid } from '../validate.js';

/**
 * User-Agent fragments (matched case-insensitively) of crawlers, AI crawlers, SEO bots and
 * internet scanners, and the generic words `bot`, `crawler`, `spider`, `scan`.
 */
export const KNOWN_BOTS: readonly string[] = Object.freeze([
  'googlebot',
  'bingbot',
  'gptbot',
  'oai-searchbot',
  'claudebot',
  'claude-web',
  'anthropic-ai',
  'perplexitybot',
  'ccbot',
  'bytespider',
  'amazonbot',
  'applebot',
  'yandexbot',
  'baiduspider',
  'duckduckbot',
  'facebookexternalhit',
  'semrush',
  'ahrefs',
  'mj12bot',
  'dotbot',
  'petalbot',
  'dataforseo',
  'zgrab',
  'masscan',
  'nmap',
  'nuclei',
  'censys',
  'expanse',
  'internet-measurement',
  'l9explore',
  'l9tcpid',
  'sqlmap',
  'nikto',
  'gobuster',
  'dirbuster',
  'wpscan',
  'fuzz',
  'scrapy',
  'headlesschrome',
  'phantomjs',
  'bot',
  'crawler',
  'spider',
  'scan',
]);

const BOT_PATTERN = new RegExp(KNOWN_BOTS.map((word) => word.replace(/[.*+?^${}()|[\]\\-]/g, '\\$&')).join('|'), 'i');
const BROWSER_AGENT = /^Mozilla\/5\.0 .*(?:Gecko|AppleWebKit|Trident)/;

/** A channel classifier of an operator's: gets the request and the standard verdict; returns the channel (undefined: the standard one). */
export type ChannelClassifier = (req: IncomingMessage, standard: Channel) => Channel | undefined;

/** Options of {@link classifyChannel}. */
export interface ChannelOptions {
  /** Paths (without query) of MCP endpoints: their requests are `mcp_http`. Default ['/mcp']. */
  mcpPaths?: readonly string[];
  /** Whether the request is known to be for an MCP endpoint (the MCP helpers say so). Default false. */
  mcp?: boolean;
}

function header(headers: IncomingHttpHeaders | Record<string, string | string[] | undefined>, name: string): string {
  const value = headers[name];
  return (Array.isArray(value) ? value[0] : value) ?? '';
}

/**
 * The standard channel of a request's headers (rules 1 to 4 above, with `mcp` for rule 2's
 * endpoint); the same rules serve MCP's `requestInfo.headers`.
 */
export function channelOfHeaders(headers: IncomingHttpHeaders | Record<string, string | string[] | undefined>, mcp = false): Channel {
  const agent = header(headers, 'user-agent');
  if (agent !== '' && BOT_PATTERN.test(agent.slice(0, 512))) return 'bot';
  if (mcp || header(headers, 'mcp-protocol-version') !== '' || header(headers, 'mcp-session-id') !== '') return 'mcp_http';
  if (BROWSER_AGENT.test(agent.slice(0, 512))) {
    const fetchHeaders = header(headers, 'sec-fetch-mode') !== '' || header(headers, 'sec-ch-ua') !== '';
    if (fetchHeaders || header(headers, 'accept').includes('text/html')) return 'browser';
  }
  return DEFAULT_CHANNEL;
}

/** The channel of a request by the standard rules (see the top of this file). */
export function classifyChannel(req: IncomingMessage, options: ChannelOptions = {}): Channel {
  const url = req.url ?? '/';
  const query = url.indexOf('?');
  const mcp = options.mcp === true || (options.mcpPaths ?? DEFAULT_MCP_PATHS).includes(query === -1 ? url : url.slice(0, query));
  return channelOfHeaders(req.headers, mcp);
}

const DEFAULT_MCP_PATHS: readonly string[] = ['/mcp'];

/**
 * The classifier a middleware or service uses: the standard rules, refined by an operator's
 * `override` when given (its answer is used when it is a channel name; anything else keeps the
 * standard verdict).
 */
export function channelClassifier(override: ChannelClassifier | undefined, options: ChannelOptions = {}): (req: IncomingMessage) => Channel {
  if (override !== undefined && typeof override !== 'function') throw invalid('a function', 'channel', override);
  if (override === undefined) return (req) => classifyChannel(req, options);
  return (req) => {
    const standard = classifyChannel(req, options);
    const chosen = override(req, standard);
    return isChannel(chosen) ? chosen : standard;
  };
}
