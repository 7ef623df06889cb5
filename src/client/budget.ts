// Budgets and consent: what the client may spend, checked before any work or payment.
import { PowgateError, type PaymentPrice } from '../errors.js';
import { invalid } from '../validate.js';
import { describePrice } from './price.js';

/** Options of {@link Budget}. */
export interface BudgetOptions {
  /** Most CPU-seconds (core-seconds) one call may cost: a payment's expected work over the calls it buys. Default 30. */
  maxSecondsPerCall?: number;
  /** Most CPU-seconds all payments of a window may cost, expected before and measured after. Default 600. */
  maxSecondsPerWindow?: number;
  /** Most sats one call may cost: an invoice over the calls it buys. Default 0 (Lightning only when you allow sats). */
  maxSatsPerCall?: number;
  /** Most sats all payments of a window may cost. Default 1,000. */
  maxSatsPerWindow?: number;
  /** The window, in ms (payments older than this no longer count). Default 3,600,000 (one hour). */
  windowMs?: number;
  /** Asked before each payment the limits allow, with its price; false (or a rejection) declines it. Default: none (allowed). */
  approve?: (price: PaymentPrice) => boolean | Promise<boolean>;
  /** The clock, in ms. Default Date.now. */
  now?: () => number;
}

/** A payment the budget allowed: its reservation in the window, to be settled with what it really cost. */
export interface Charge {
  readonly price: PaymentPrice;
  /** Replaces the reserved amounts with the measured ones (e.g. the CPU-seconds a solve really took). */
  settle(actual: { seconds?: number; sats?: number }): void;
}

interface Entry {
  at: number;
  seconds: number;
  sats: number;
}

function limit(value: unknown, what: string, fallback: number): number {
  const v = value ?? fallback;
  if (typeof v !== 'number' || Number.isNaN(v) || v < 0) throw invalid('a number of at least 0 (Infinity for no limit)', what, value);
  return v;
}

/**
 * What a client may spend: CPU-seconds and sats per call and per window, and an optional
 * approval. `check` and `authorize` refuse with ERR_BUDGET_EXCEEDED (or ERR_PAYMENT_DECLINED)
 * carrying the price; nothing is solved or paid before they allow it. One budget may be
 * shared by several clients (fetch, MCP).
 */
export class Budget {
  readonly maxSecondsPerCall: number;
  readonly maxSecondsPerWindow: number;
  readonly maxSatsPerCall: number;
  readonly maxSatsPerWindow: number;
  readonly windowMs: number;
  readonly #approve: BudgetOptions['approve'];
  readonly #now: () => number;
  #entries: Entry[] = [];

  constructor(options: BudgetOptions = {}) {
    if (typeof options !== 'object' || options === null) throw invalid('an options object', 'budget options', options);
    this.maxSecondsPerCall = limit(options.maxSecondsPerCall, 'maxSecondsPerCall', 30);
    this.maxSecondsPerWindow = limit(options.maxSecondsPerWindow, 'maxSecondsPerWindow', 600);
    this.maxSatsPerCall = limit(options.maxSatsPerCall, 'maxSatsPerCall', 0);
    this.maxSatsPerWindow = limit(options.maxSatsPerWindow, 'maxSatsPerWindow', 1_000);
    this.windowMs = limit(options.windowMs, 'windowMs', 3_600_000);
    if (options.approve !== undefined && typeof options.approve !== 'function') throw invalid('a function', 'approve', options.approve);
    if (options.now !== undefined && typeof options.now !== 'function') throw invalid('a function', 'now', options.now);
    this.#approve = options.approve;
    this.#now = options.now ?? Date.now;
  }

  /** What the window has spent so far (reservations included). */
  spent(): { seconds: number; sats: number } {
    const since = this.#now() - this.windowMs;
    this.#entries = this.#entries.filter((e) => e.at > since);
    return this.#entries.reduce((sum, e) => ({ seconds: sum.seconds + e.seconds, sats: sum.sats + e.sats }), { seconds: 0, sats: 0 });
  }

  /** The refusal this price would get now (ERR_BUDGET_EXCEEDED), or undefined when it fits. No side effects. */
  check(price: PaymentPrice): PowgateError | undefined {
    const over = (what: string) => new PowgateError('ERR_BUDGET_EXCEEDED', `the price, ${describePrice(price)}, is over ${what}: nothing was solved or paid`, { price });
    const seconds = price.seconds ?? 0;
    const sats = price.sats ?? 0;
    const calls = Math.max(1, price.calls);
    if (!(seconds >= 0) || !(sats >= 0)) return over('any budget (it is not a number)');
    if (seconds / calls > this.maxSecondsPerCall) return over(`maxSecondsPerCall (${this.maxSecondsPerCall})`);
    if (sats / calls > this.maxSatsPerCall) return over(`maxSatsPerCall (${this.maxSatsPerCall})`);
    const spent = this.spent();
    if (spent.seconds + seconds > this.maxSecondsPerWindow) {
      return over(`what is left of maxSecondsPerWindow (${this.maxSecondsPerWindow} per ${this.windowMs} ms; ${spent.seconds.toFixed(1)} spent)`);
    }
    if (spent.sats + sats > this.maxSatsPerWindow) return over(`what is left of maxSatsPerWindow (${this.maxSatsPerWindow} per ${this.windowMs} ms; ${spent.sats} spent)`);
    return undefined;
  }

  /**
   * Checks the price, asks `approve`, checks again (others may have spent meanwhile) and
   * reserves it in the window. Throws ERR_BUDGET_EXCEEDED or ERR_PAYMENT_DECLINED.
   */
  async authorize(price: PaymentPrice): Promise<Charge> {
    const refused = this.check(price);
    if (refused) throw refused;
    if (this.#approve) {
      let approved: boolean;
      try {
        approved = (await this.#approve(price)) === true;
      } catch (cause) {
        throw new PowgateError('ERR_PAYMENT_DECLINED', `approve() failed for ${describePrice(price)}: nothing was solved or paid`, { cause, price });
      }
      if (!approved) throw new PowgateError('ERR_PAYMENT_DECLINED', `approve() declined ${describePrice(price)}: nothing was solved or paid`, { price });
      const late = this.check(price);
      if (late) throw late;
    }
    const entry: Entry = { at: this.#now(), seconds: price.seconds ?? 0, sats: price.sats ?? 0 };
    this.#entries.push(entry);
    return {
      price,
      settle(actual) {
        if (actual.seconds !== undefined && actual.seconds >= 0) entry.seconds = actual.seconds;
        if (actual.sats !== undefined && actual.sats >= 0) entry.sats = actual.sats;
      },
    };
  }
}
