import { performance } from 'node:perf_hooks';
import type { Recorder } from '../metrics/recorder.js';
import type { Slot } from '../protocols/protocol.js';
import { recordOutcome, type Driver } from './driver.js';

/**
 * The closed model (wrk): every slot sends its next request the moment the
 * previous one completes, so throughput is whatever the server allows and
 * latency is measured from each actual send.
 */
export class ClosedLoop implements Driver {
  readonly #slots: readonly Slot[];
  readonly #recorder: Recorder;
  #inFlight = 0;
  #stopped = false;
  #drained: (() => void) | undefined;

  constructor(slots: readonly Slot[], recorder: Recorder) {
    this.#slots = slots;
    this.#recorder = recorder;
  }

  get inFlight(): number {
    return this.#inFlight;
  }

  /** Closed-model latency runs from each actual send, so the barrier time is not needed. */
  start(): void {
    const now = performance.now();
    for (const slot of this.#slots) this.#send(slot, now);
  }

  stop(): void {
    this.#stopped = true;
    this.#checkDrained();
  }

  account(): void {}

  onDrained(listener: () => void): void {
    this.#drained = listener;
    this.#checkDrained();
  }

  completed(slot: Slot, status: number, bytes: number, error: unknown): void {
    const now = performance.now();
    this.#inFlight -= 1;
    // Latency runs from the actual send, which a connection may have moved (a connect backoff).
    slot.intendedAt = slot.sentAt;
    recordOutcome(this.#recorder, slot, now, status, bytes, error);
    if (this.#stopped) this.#checkDrained();
    else if (status > 0) this.#send(slot, now);
    else {
      this.#inFlight += 1; // still owed: counted as in flight until the retry sends
      setImmediate(this.#retryOwed, slot);
    }
  }

  /** A failed slot retries on the next turn of the loop, so a refused port cannot recurse or spin synchronously. */
  readonly #retryOwed = (slot: Slot): void => {
    this.#inFlight -= 1;
    if (this.#stopped) this.#checkDrained();
    else this.#send(slot, performance.now());
  };

  #send(slot: Slot, now: number): void {
    if (this.#stopped) return;
    slot.intendedAt = now;
    slot.sentAt = now;
    this.#inFlight += 1;
    slot.send();
  }

  #checkDrained(): void {
    if (this.#stopped && this.#inFlight === 0 && this.#drained !== undefined) {
      const drained = this.#drained;
      this.#drained = undefined;
      drained();
    }
  }
}
