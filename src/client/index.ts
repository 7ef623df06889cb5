// powgate/client: the agent's side. A fetch and an MCP client that pay powgate and L402
// refusals within a budget, and the parts to build the same over another transport.
export type { PaymentPrice } from '../errors.js';
export { wrapFetchWithPowgate, type PowgateFetch, type PowgateFetchOptions } from './fetch.js';
export { wrapMcpClientWithPowgate, type McpToolClient, type PowgateMcpClient, type PowgateMcpOptions } from './mcp.js';
export type { McpCallToolParams, McpImplementation, McpListToolsParams, McpListToolsResult, McpRequestOptions } from './mcp-types.js';
export { PowgateClient, type ClientProgress, type PaymentInfo, type PayOptions, type PowgateClientOptions } from './client.js';
export { Budget, type BudgetOptions, type Charge } from './budget.js';
export type { CachedCredential, Credential, Lease } from './credential.js';
export { CredentialCache, type CredentialCacheOptions } from './credentials.js';
export { parseL402Challenges, parsePaymentRequired } from './envelope.js';
export type { AperturePowOffer, Envelope, L402Offer, Offer, PaymentMethod, PowOffer } from './offers.js';
export type { DoorTransport, TokenGrant } from './transport.js';
export { httpTransport } from './http-transport.js';
export type { FetchInput } from './replay.js';
export { callbackWallet, LndRestWallet, type LndRestWalletOptions, type Wallet } from './wallet.js';
