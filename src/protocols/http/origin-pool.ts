import type { Endpoint } from './http-connection.js';
import type { StepExchange } from './step-exchange.js';
import { StepLane, type LaneOwner } from './step-lane.js';

/** What a pool reports to its client: connection gauge and connection-level errors. */
export interface PoolOwner {
  opened(): void;
  closed(): void;
  connectionFailed(error: unknown): void;
}

/**
 * The pooled connections to one origin (scheme, host, port) for flow `http`
 * steps: at most `maxLanes`, opened only when every open one is busy (a
 * user makes one request at a time, so a closed-model journey with fewer
 * users than the cap never queues). A free connection is taken last-in
 * first-out (the warmest socket; the coldest may idle out). When all are
 * busy, exchanges wait in arrival order and each freed lane takes the next
 * at once, inside the read that freed it.
 */
export class OriginPool implements LaneOwner {
  readonly #endpoint: Endpoint;
  readonly #maxLanes: number;
  readonly #timeoutMs: number;
  readonly #owner: PoolOwner;
  readonly #lanes: StepLane[] = [];
  readonly #idle: StepLane[] = [];
  readonly #waiting: StepExchange[] = [];

  constructor(endpoint: Endpoint, maxLanes: number, timeoutMs: number, owner: PoolOwner) {
    this.#endpoint = endpoint;
    this.#maxLanes = maxLanes;
    this.#timeoutMs = timeoutMs;
    this.#owner = owner;
  }

  /** Writes the exchange's request on a free connection now, or queues it. Never throws. */
  exchange(exchange: StepExchange): void {
    let lane = this.#idle.pop();
    if (lane === undefined && this.#lanes.length < this.#maxLanes) {
      lane = new StepLane(this.#endpoint, this, this.#timeoutMs);
      this.#lanes.push(lane);
    }
    if (lane !== undefined) {
      lane.carry(exchange);
      return;
    }
    exchange.waited = true;
    this.#waiting.push(exchange);
  }

  release(lane: StepLane): void {
    const next = this.#waiting.shift();
    if (next === undefined) this.#idle.push(lane);
    else lane.carry(next);
  }

  opened(): void {
    this.#owner.opened();
  }

  closed(): void {
    this.#owner.closed();
  }

  connectionFailed(error: unknown): void {
    this.#owner.connectionFailed(error);
  }

  /** Fails the exchanges past their deadline at `now` (their connections close). */
  expire(now: number, error: Error): void {
    for (const lane of this.#lanes) lane.expire(now, error);
  }

  /** Fails every exchange, in flight or waiting, with `error`; closes every connection. */
  abort(error: Error): void {
    for (const exchange of this.#waiting.splice(0)) exchange.reject(error);
    for (const lane of this.#lanes) lane.abort(error);
  }
}
