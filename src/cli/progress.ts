import type { SolveProgress } from '../solver/solve.js';
import { formatRate, formatSeconds } from './format.js';

/**
 * One self-redrawing line on a terminal: the share of the expected work done
 * (a search can run past 100%: the work is random), rate and elapsed time.
 */
export class ProgressBar {
  #drawn = false;

  constructor(
    private readonly stream: NodeJS.WritableStream & { columns?: number },
    private readonly label: string,
    /** Expected hashes of the whole solve. */
    private readonly expectedHashes: number,
  ) {}

  update(progress: SolveProgress): void {
    const share = progress.hashes / this.expectedHashes;
    const text = `${Math.round(share * 100)}% of expected work  ${formatRate(progress.hashesPerSecond)}  ${formatSeconds(progress.elapsedMs / 1000)}`;
    const width = Math.max(10, Math.min(40, (this.stream.columns ?? 80) - this.label.length - text.length - 6));
    const filled = Math.min(width, Math.round(Math.min(1, share) * width));
    // \r returns to the line's start, ESC[K clears what a longer previous line left.
    this.stream.write(`\r${this.label} [${'#'.repeat(filled)}${'.'.repeat(width - filled)}] ${text}\x1b[K`);
    this.#drawn = true;
  }

  /** Clears the line, so the next output starts clean. */
  clear(): void {
    if (this.#drawn) this.stream.write('\r\x1b[K');
    this.#drawn = false;
  }
}
