import { performance } from 'node:perf_hooks';
import type { Recorder } from '../metrics/recorder.js';
import type { Slot } from '../protocols/protocol.js';
import { ArrivalQueue } from '../scenarios/arrival-queue.js';
import type { OpenLoad } from '../scenarios/scenario.js';
import { recordOutcome, type Driver } from './driver.js';

/**
 * The open model (wrk2, k6 arrival-rate). Arrivals follow the schedule
 * whatever the server does; each is sent on a free slot and its latency is
 * measured from its *intended* time, so a stalled server shows in the
 * percentiles instead of silently slowing the client (coordinated omission).
 *
 * Subtleness ahead: there is no queue in memory (ArrivalQueue): arrivals
 * waiting for a connection are the indexes between the next one and the
 * one due now. A slot that frees up takes the next if it is due; an
 * arrival that waited longer than maxDelay is counted as dropped, never
 * skipped silently. Timers fire at most once per
 * millisecond, so arrivals are sent in small batches; the correction covers
 * that batching too.
 */
export class OpenLoop implements Driver {
  readonly #slots: readonly Slot[];
  readonly #recorder: Recorder;
  readonly #arrivals: ArrivalQueue;
  readonly #idle: Slot[] = [];
  #startAt = 0;
  #inFlight = 0;
  #stopped = false;
  #timer: NodeJS.Timeout | undefined;
  #drained: (() => void) | undefined;

  constructor(slots: readonly Slot[], recorder: Recorder, load: OpenLoad) {
    this.#slots = slots;
    this.#recorder = recorder;
    this.#arrivals = new ArrivalQueue(load);
  }

  get inFlight(): number {
    return this.#inFlight;
  }

  start(startAt: number): void {
    this.#startAt = startAt;
    this.#idle.push(...this.#slots);
    this.#pump();
  }

  stop(): void {
    if (this.#stopped) return;
    this.account(performance.now());
    this.#stopped = true;
    if (this.#timer !== undefined) clearTimeout(this.#timer);
    // Arrivals that came due but were never sent found no connection before the end.
    const unsent = this.#arrivals.takeUnsent();
    if (unsent > 0) this.#recorder.drop(unsent);
    this.#checkDrained();
  }

  account(now: number): void {
    if (this.#stopped) return;
    const scheduled = this.#arrivals.takeScheduled(now - this.#startAt);
    if (scheduled > 0) this.#recorder.schedule(scheduled);
    this.#dropStale(now - this.#startAt);
  }

  onDrained(listener: () => void): void {
    this.#drained = listener;
    this.#checkDrained();
  }

  completed(slot: Slot, status: number, bytes: number, error: unknown): void {
    const now = performance.now();
    this.#inFlight -= 1;
    recordOutcome(this.#recorder, slot, now, status, bytes, error);
    if (this.#stopped) {
      this.#checkDrained();
      return;
    }
    this.#idle.push(slot);
    // A failed send retries from the timer, never synchronously inside the failure.
    if (status > 0) this.#sendDue(now);
    this.#arm(now);
  }

  readonly #pump = (): void => {
    this.#timer = undefined;
    if (this.#stopped) return;
    const now = performance.now();
    this.#sendDue(now);
    this.#arm(now);
  };

  /** Sends every due arrival that has a free slot. */
  #sendDue(now: number): void {
    const elapsed = now - this.#startAt;
    this.#dropStale(elapsed);
    while (this.#idle.length > 0) {
      const intended = this.#arrivals.takeDue(elapsed);
      if (intended === undefined) return;
      const slot = this.#idle.pop()!;
      slot.intendedAt = this.#startAt + intended;
      slot.sentAt = now;
      this.#inFlight += 1;
      slot.send();
    }
  }

  /** Counts as dropped the arrivals that have waited longer than maxDelay. */
  #dropStale(elapsed: number): void {
    const stale = this.#arrivals.takeStale(elapsed);
    if (stale > 0) this.#recorder.drop(stale);
  }

  /** Wakes up for the next arrival when a slot is free to take it. */
  #arm(now: number): void {
    if (this.#timer !== undefined || this.#idle.length === 0 || this.#stopped) return;
    const intended = this.#arrivals.nextIntendedMs();
    if (intended === undefined) return;
    this.#timer = setTimeout(this.#pump, Math.max(0, this.#startAt + intended - now));
  }

  #checkDrained(): void {
    if (this.#stopped && this.#inFlight === 0 && this.#drained !== undefined) {
      const drained = this.#drained;
      this.#drained = undefined;
      drained();
    }
  }
}
