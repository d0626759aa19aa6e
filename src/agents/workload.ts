import type { SessionReport } from '../wire/messages.js';
import type { ConnectGauges } from './health-probe.js';

/**
 * What an agent runs for one plan: request load (HTTP) or virtual users on
 * long connections. The load run owns the interval clock and the recorder;
 * a workload owns its clients. Event-loop only.
 */
export interface Workload {
  /** Begins; `startAt` is the performance.now() time of the start barrier. */
  start(startAt: number): void;
  /** Starts no new work; what is in flight finishes (or the drain bound cuts it). */
  stop(): void;
  /** Calls `listener` once, when stopped and nothing is left to wait for. */
  onDrained(listener: () => void): void;
  /** Longest the drain after `stop` may take before connections are cut. */
  readonly drainBoundMs: number;
  /** Brings counters up to `now` before an interval is taken. */
  account(now: number): void;
  readonly inFlight: number;
  openConnections(): number;
  /** The interval's long-connection part, for session workloads. */
  takeSessionReport(): SessionReport | undefined;
  /** Handshakes in flight, connects started this interval (then reset), users due but not started. */
  takeConnectGauges(): ConnectGauges;
  /** Closes every connection. */
  close(): Promise<void>;
}
