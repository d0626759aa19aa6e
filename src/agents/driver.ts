import type { Recorder } from '../metrics/recorder.js';
import type { ExchangeListener, Slot } from '../protocols/protocol.js';

/**
 * Paces exchanges over a pool's slots: the closed model (send on completion)
 * or the open model (send on schedule). Owns the in-flight count; records
 * every outcome into the recorder. Single-threaded, event-loop only.
 */
export interface Driver extends Pick<ExchangeListener, 'completed'> {
  /** Begins sending; `startAt` is the performance.now() time of the start barrier. */
  start(startAt: number): void;
  /** Starts no new exchange from now on; in-flight ones finish or time out. */
  stop(): void;
  /** Called at interval boundaries so the interval's counters are complete. */
  account(now: number): void;
  readonly inFlight: number;
  /** Called once when stopped and nothing is in flight. */
  onDrained(listener: () => void): void;
}

/** Records one finished exchange. Hot path: no allocation. */
export function recordOutcome(recorder: Recorder, slot: Slot, now: number, status: number, bytes: number, error: unknown): void {
  if (status > 0) {
    recorder.response(status, bytes, Math.round((now - slot.intendedAt) * 1000), Math.round((now - slot.sentAt) * 1000), slot.requestIndex);
  } else {
    recorder.failure(error, slot.requestIndex);
  }
}
