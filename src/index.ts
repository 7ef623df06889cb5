export { PowgateError, type PowgateErrorCode } from './errors.js';
export { backendInfo, getBackend, loadBackend, type BackendInfo } from './backend/loader.js';
export type { BackendName, NativeIsa, Sha256Backend } from './backend/types.js';
