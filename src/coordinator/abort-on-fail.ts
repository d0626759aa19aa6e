import { badStatuses, transportErrors } from '../metrics/counters.js';
import type { MergedInterval } from '../metrics/merger.js';
import { noSuccessReason, type SuccessMeasure } from '../report/no-success.js';
import type { RunAbort } from '../report/result.js';

/**
 * Decides from the merged intervals, in order, when a run against a dead
 * target should stop instead of hammering it for the whole duration: no
 * success in any interval so far (see SuccessMeasure), at least one
 * failure, and at least `abortOnFailMs` of the run covered. One success
 * disarms it for good. A decision that would come at or after the planned
 * end is not taken (the run ends anyway). Intervals with neither (a server
 * that holds requests open, users still queued) neither disarm nor
 * trigger it: a silent server is judged once its timeouts fail requests.
 * Not on a hot path: called once per merged interval.
 */
export class AbortOnFail {
  readonly #abortOnFailMs: number;
  readonly #measure: SuccessMeasure;
  readonly #durationMs: number;
  #firstStartMs: number | undefined;
  #done = false;
  #failures = 0;
  readonly #errors: Record<string, number> = {};
  readonly #statuses: Record<string, number> = {};
  readonly #samples: Record<string, string> = {};

  /** `durationMs`: the planned load, from the start; `abortOnFailMs` above 0. */
  constructor(abortOnFailMs: number, measure: SuccessMeasure, durationMs: number) {
    this.#abortOnFailMs = abortOnFailMs;
    this.#measure = measure;
    this.#durationMs = durationMs;
  }

  /** Takes the next merged interval; returns the abort once, when the run should stop now. */
  add(interval: MergedInterval): RunAbort | undefined {
    if (this.#done) return undefined;
    this.#firstStartMs ??= interval.startMs;
    const { counters, sessions } = interval;
    const successes = this.#measure === 'responses' ? counters.requests : sessions?.opened ?? 0;
    if (successes > 0) {
      this.#done = true;
      return undefined;
    }
    // Long-connection runs: a ticket answered with a 5xx, or a connect that failed, is a failure too.
    this.#failures += transportErrors(counters) + (this.#measure === 'connects' ? badStatuses(counters) + (sessions?.failed ?? 0) : 0);
    for (const [key, count] of Object.entries(counters.errors)) this.#errors[key] = (this.#errors[key] ?? 0) + count;
    for (const [key, count] of Object.entries(counters.statuses)) this.#statuses[key] = (this.#statuses[key] ?? 0) + count;
    for (const [key, sample] of Object.entries(counters.errorSamples ?? {})) this.#samples[key] ??= sample;
    const afterMs = interval.endMs - this.#firstStartMs;
    if (afterMs >= this.#durationMs) {
      this.#done = true;
      return undefined;
    }
    if (this.#failures === 0 || afterMs < this.#abortOnFailMs) return undefined;
    this.#done = true;
    return {
      reason: noSuccessReason(this.#measure, { errors: this.#errors, statuses: this.#statuses, samples: this.#samples }),
      afterMs,
      abortOnFailMs: this.#abortOnFailMs,
    };
  }
}
