import type { LookupFunction } from 'node:net';
import type { ConnectGauges } from './health-probe.js';
import type { Recorder } from '../metrics/recorder.js';
import type { ClientPool, ExchangeListener } from '../protocols/protocol.js';
import { requestProtocolNamed } from '../protocols/registry.js';
import type { HttpPlan } from '../scenarios/plan.js';
import { ClosedLoop } from './closed-loop.js';
import type { Driver } from './driver.js';
import { OpenLoop } from './open-loop.js';
import type { Workload } from './workload.js';

const noConnects: ConnectGauges = { connecting: 0, connectsStarted: 0, connectsBehind: 0 };

/** Grace beyond the request timeout before in-flight exchanges are cut at the end. */
const drainGraceMs = 1000;

/** HTTP request load: a client pool paced by the closed or the open model. */
export class RequestWorkload implements Workload {
  readonly #pool: ClientPool;
  readonly #driver: Driver;
  readonly drainBoundMs: number;

  /** `lookup`: the agent's target policy's, so every connection's addresses are checked (undefined: no policy). */
  constructor(plan: HttpPlan, recorder: Recorder, lookup?: LookupFunction) {
    // The pool needs a listener before the driver (which needs the pool's slots) exists.
    const listener: ExchangeListener = {
      completed: (slot, status, bytes, error) => this.#driver.completed(slot, status, bytes, error),
      connectionFailed: (error) => recorder.failure(error),
    };
    this.#pool = requestProtocolNamed(plan.protocol).createPool(plan, listener, lookup);
    this.#driver = plan.load.model === 'closed'
      ? new ClosedLoop(this.#pool.slots, recorder)
      : new OpenLoop(this.#pool.slots, recorder, plan.load);
    this.drainBoundMs = plan.timeouts.requestMs + plan.timeouts.connectMs + drainGraceMs;
  }

  start(startAt: number): void {
    this.#driver.start(startAt);
  }

  stop(): void {
    this.#driver.stop();
  }

  onDrained(listener: () => void): void {
    this.#driver.onDrained(listener);
  }

  account(now: number): void {
    this.#driver.account(now);
  }

  get inFlight(): number {
    return this.#driver.inFlight;
  }

  openConnections(): number {
    return this.#pool.openConnections();
  }

  takeSessionReport(): undefined {
    return undefined;
  }

  takeConnectGauges(): ConnectGauges {
    return noConnects;
  }

  close(): Promise<void> {
    return this.#pool.close();
  }
}
