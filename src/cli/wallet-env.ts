// The wallet `powgate fetch --max-sats` pays through: LND's REST API, configured in the
// environment only (a macaroon that can spend must never be an argument, nor be logged).
import { LndRestWallet } from '../client/wallet.js';
import { PowgateError } from '../errors.js';
import { lndSettingsFromEnv } from '../lightning/from-env.js';

/**
 * The LND wallet configured by `POWGATE_WALLET_LND_URL` plus `POWGATE_WALLET_LND_MACAROON`
 * (hex) or `POWGATE_WALLET_LND_MACAROON_FILE` (binary or hex), plus optionally
 * `POWGATE_WALLET_LND_TLS_CERT_FILE` (PEM); undefined when none of them is set (an empty
 * variable counts as unset). Throws ERR_INVALID_ENV naming the variable, never its value,
 * when the configuration is incomplete, ambiguous or invalid.
 */
export function walletFromEnv(env: Record<string, string | undefined>): LndRestWallet | undefined {
  const settings = lndSettingsFromEnv(env, 'POWGATE_WALLET_LND');
  if (!settings) return undefined;
  try {
    return new LndRestWallet(settings);
  } catch (error) {
    // The wallet's own checks name options; here they came from variables.
    if (error instanceof PowgateError && error.code === 'ERR_INVALID_ARGUMENT') throw new PowgateError('ERR_INVALID_ENV', error.message);
    throw error;
  }
}
