// powgate/client: the agent's side. A fetch that pays powgate and L402 refusals within a
// budget, and the transport-free parts an MCP wrapper (or any other) is built from.
export type { PaymentPrice } from '../errors.js';
export { wrapFetchWithPowgate, type PowgateFetch, type PowgateFetchOptions } from './fetch.js';
export { PowgateClient, type ClientProgress, type PaymentInfo, type PayOptions, type PowgateClientOptions } from './client.js';
export { Budget, type BudgetOptions, type Charge } from './budget.js';
export { CredentialCache, credentialKey, credentialText, type CachedCredential, type Credential, type CredentialCacheOptions, type Lease } from './credentials.js';
export { isPaymentRequired, parseL402Challenges, parsePaymentRequired } from './envelope.js';
export { parseWwwAuthenticate, type AuthChallenge } from './www-authenticate.js';
export type { AperturePowOffer, Envelope, L402Offer, Offer, PaymentMethod, PowOffer } from './offers.js';
export { DEFAULT_PREFER, rankOffers } from './policy.js';
export { challengeHashes, priceOf } from './price.js';
export { payAperturePow, payL402, payPow, type DoorOptions, type DoorReceipt } from './doors.js';
export { solveAperturePow, type AperturePowOptions, type AperturePowSolution } from './aperture-pow.js';
export type { DoorTransport, TokenGrant } from './transport.js';
export { httpTransport } from './http-transport.js';
export { readHttpRefusal } from './http-envelope.js';
export type { FetchInput } from './replay.js';
export { callbackWallet, LndRestWallet, type LndRestWalletOptions, type Wallet } from './wallet.js';
