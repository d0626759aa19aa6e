import type { LookupFunction } from 'node:net';
import type { HttpPlan } from '../scenarios/plan.js';

/**
 * One request-at-a-time lane on a connection: a connection with pipelining p
 * has p slots. Drivers set the two timestamps (performance.now() ms) and call
 * `send`; the protocol calls `ExchangeListener.completed` exactly once per
 * send. Slots are reused for every exchange: no per-request objects.
 */
export interface Slot {
  /** When the exchange was meant to start (open model: its arrival time). */
  intendedAt: number;
  /** When it was actually sent: handed to the connection, or written after the connection's connect backoff (the protocol may move it later). */
  sentAt: number;
  /** The exchange in flight (or last sent): its index in the plan's requests, for per-request statistics. */
  readonly requestIndex: number;
  /** Starts the next exchange on this slot. Must not be called while one is in flight. */
  send(): void;
}

/** Receives every finished exchange. Hot path: must not block, should not allocate. */
export interface ExchangeListener {
  /**
   * `status` > 0: a response with `bytes` read. `status` 0: the exchange
   * failed with `error` (classified later by its code). May be called
   * synchronously from `send` when the failure is immediate.
   */
  completed(slot: Slot, status: number, bytes: number, error: unknown): void;
  /**
   * A connection failed in a way no exchange caused (bytes no request asked
   * for): counted as an error of its own, not charged to any request.
   */
  connectionFailed(error: unknown): void;
}

/** The clients of one agent, sized by the plan. */
export interface ClientPool {
  readonly slots: readonly Slot[];
  /** Connections open right now (a gauge for interval reports). */
  openConnections(): number;
  /** Closes every connection; in-flight exchanges fail. */
  close(): Promise<void>;
}

/** A load protocol: turns a plan into a pool of slots. Knows nothing of histograms, pacing or the wire. */
export interface Protocol {
  readonly name: string;
  /** `lookup` resolves (and may refuse) each connection's host; undefined: the system's resolver. */
  createPool(plan: HttpPlan, listener: ExchangeListener, lookup?: LookupFunction): ClientPool;
}
