export { PowgateError, type PaymentPrice, type PowgateErrorCode } from './errors.js';
export { backendInfo, getBackend, loadBackend, type BackendInfo } from './backend/loader.js';
export type { BackendName, NativeIsa, Sha256Backend } from './backend/types.js';
export { prepareMacKey, type MacKey } from './backend/mac-key.js';
export { createChallenge, type Challenge, type CreateChallengeOptions } from './protocol/challenge.js';
export type { KeyDerivation, KeyEntry, KeyOptions, Secret } from './protocol/keys.js';
export type { Refusal } from './protocol/refusal.js';
export type { Accepted } from './protocol/pair-reader.js';
export type { Solution } from './protocol/solution.js';
export { verifySolution, verifySolutions, type Verdict, type VerifyOptions, type VerifyPair } from './protocol/verify.js';
export { issueToken, verifyToken, type IssueTokenOptions, type TokenMethod, type TokenVerdict, type ValidToken, type VerifyTokenOptions } from './protocol/token.js';
export { MAX_CALLS } from './protocol/price.js';
export { MemoryReplayStore, type MemoryReplayStoreOptions } from './storage/memory.js';
export { RedisReplayStore, type RedisReplayStoreOptions } from './storage/redis.js';
export type { RedisClient, RedisConnectionOptions, RedisNode } from './storage/redis-connection.js';
export type { CallSpendResult, RecordedSpend, ReplayStore, SpendEntry, SpendResult } from './storage/types.js';
export { solve, type SolveOptions, type SolveProgress } from './solver/solve.js';
export { measureHashRate, type HashRate, type MeasureHashRateOptions } from './solver/measure.js';
export { calibrate, type CalibratedDifficulty, type CalibrateOptions, type Calibration } from './solver/calibrate.js';
export {
  predictSolveSeconds,
  recommendDifficulty,
  type DifficultyRecommendation,
  type RecommendDifficultyOptions,
  type SolveTimeModel,
  type SolveTimePrediction,
} from './solver/calibration-model.js';
export {
  Gate,
  type GateStatus,
  type ChallengeResult,
  type ClientCounting,
  type DoorPrice,
  type GateOptions,
  type Grant,
  type RedeemResult,
  type UseResult,
  type UseTokenOptions,
} from './gate/gate.js';
export type { ChallengeOptions } from './gate/challenge-issue.js';
export type { RedeemOptions } from './gate/redeem.js';
export type { RefuseOptions } from './gate/refuse.js';
export type { DoorListing } from './gate/doors.js';
export type {
  Channel,
  Degradation,
  DoorKind,
  GateEvent,
  GateObserver,
  GateStage,
  RefusedStep,
} from './gate/events.js';
export type { CallRefusal, ChallengeRefusal, GateReason, GateUnavailable, L402Accept, L402PowAccept, PaymentRequired, PowAccept, Unavailable } from './gate/envelope.js';
export type { LightningDoorOptions, LightningOffer, LightningOutage } from './gate/lightning-door.js';
export { verifyL402, type L402Mode, type L402Verdict, type ValidL402, type VerifyL402Options } from './protocol/l402.js';
export {
  LightningUnavailable,
  LnbitsBackend,
  LndRestBackend,
  lightningFromEnv,
  type InvoiceRequest,
  type InvoiceState,
  type LightningBackend,
  type LightningFromEnvOptions,
  type LightningInvoice,
  type LnbitsBackendOptions,
  type LndRestBackendOptions,
} from './lightning/index.js';
export { MemoryRateCounter, type MemoryRateCounterOptions, type RateCounter } from './storage/rate-counter.js';
export type { AdaptiveDifficulty, AdaptiveDifficultyOptions } from './gate/adaptive-difficulty.js';
export { RedisRateCounter, type RedisRateCounterOptions } from './storage/redis-rate-counter.js';
export {
  discoveryDocument,
  type DiscoveryDocument,
  type DiscoveryOptions,
  type DiscoveryResource,
  type DoorPrices,
  type ReferenceHardware,
} from './gate/discovery.js';
