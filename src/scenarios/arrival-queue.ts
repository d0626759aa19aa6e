import { ArrivalSchedule } from './arrival-schedule.js';
import type { OpenLoad } from './scenario.js';

/** Which of a schedule's arrivals are this agent's: local arrival j is arrival `indexOf(j)`; `countBelow(k)` of the first k are local. */
export interface ArrivalShare {
  indexOf(local: number): number;
  countBelow(arrivals: number): number;
}

/** Every arrival is this agent's (an HTTP agent's own schedule). */
const everyArrival: ArrivalShare = { indexOf: (local) => local, countBelow: (arrivals) => arrivals };

/**
 * The bookkeeping of an open model, shared by the HTTP open loop and
 * open-model journeys: which local arrival is next, which came due and were
 * counted as scheduled, which waited past maxDelay and are dropped. There
 * is no queue in memory: arrivals waiting for a free slot are the local
 * indexes between `next` and the one due now, a pure function of the
 * schedule. Times are ms from the start. Allocation-free; event-loop only.
 */
export class ArrivalQueue {
  readonly #schedule: ArrivalSchedule;
  readonly #share: ArrivalShare;
  readonly #maxDelayMs: number;
  /** Local index of the next arrival to start. */
  #next = 0;
  /** Local arrivals counted as scheduled so far. */
  #accounted = 0;

  constructor(load: Pick<OpenLoad, 'startRatePerS' | 'stages' | 'maxDelayMs'>, share: ArrivalShare = everyArrival) {
    this.#schedule = new ArrivalSchedule(load);
    this.#share = share;
    this.#maxDelayMs = load.maxDelayMs;
  }

  /** Intended time of the next arrival to start, or undefined past the last. */
  nextIntendedMs(): number | undefined {
    return this.#schedule.timeOfMs(this.#share.indexOf(this.#next));
  }

  /** Takes the next arrival if it is due by `elapsedMs`: its intended time; else undefined (nothing taken). */
  takeDue(elapsedMs: number): number | undefined {
    const intended = this.nextIntendedMs();
    if (intended === undefined || intended > elapsedMs) return undefined;
    this.#next += 1;
    return intended;
  }

  /** Arrivals that came due by `elapsedMs` since the last call: count them as scheduled. */
  takeScheduled(elapsedMs: number): number {
    const due = this.#share.countBelow(this.#schedule.firstAtOrAfter(elapsedMs));
    if (due <= this.#accounted) return 0;
    const added = due - this.#accounted;
    this.#accounted = due;
    return added;
  }

  /** Arrivals that have waited longer than maxDelay by `elapsedMs`: skipped, to count as dropped. */
  takeStale(elapsedMs: number): number {
    const oldest = this.nextIntendedMs();
    if (oldest === undefined || elapsedMs - oldest <= this.#maxDelayMs) return 0;
    const fresh = this.#share.countBelow(this.#schedule.firstAtOrAfter(elapsedMs - this.#maxDelayMs));
    if (fresh <= this.#next) return 0;
    const stale = fresh - this.#next;
    this.#next = fresh;
    return stale;
  }

  /** At the end: arrivals counted as scheduled that never started, to count as dropped. */
  takeUnsent(): number {
    if (this.#accounted <= this.#next) return 0;
    const unsent = this.#accounted - this.#next;
    this.#next = this.#accounted;
    return unsent;
  }
}
