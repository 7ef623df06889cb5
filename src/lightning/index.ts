export { type InvoiceRequest, type InvoiceState, type LightningBackend, type LightningInvoice, LightningUnavailable } from './backend.js';
export { type LightningFromEnvOptions, lightningFromEnv } from './from-env.js';
export { type LnbitsBackendOptions, LnbitsBackend } from './lnbits.js';
export { type LndRestBackendOptions, LndRestBackend } from './lnd-rest.js';
