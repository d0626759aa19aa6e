import { performance } from 'node:perf_hooks';
import { Recorder } from '../metrics/recorder.js';
import { protocolNamed } from '../protocols/registry.js';
import type { ClientPool, ExchangeListener } from '../protocols/protocol.js';
import type { AgentPlan } from '../scenarios/plan.js';
import type { IntervalMessage } from '../wire/messages.js';
import { ClosedLoop } from './closed-loop.js';
import type { Driver } from './driver.js';
import { OpenLoop } from './open-loop.js';

/** What a run tells its owner: each interval, then the end (after the last interval). */
export interface LoadRunEvents {
  interval(message: IntervalMessage): void;
  finished(): void;
}

/** Grace beyond the request timeout before in-flight exchanges are cut at the end. */
const drainGraceMs = 1000;

/**
 * One agent's load for one plan: the client pool, its driver, the recorder
 * and the interval clock. Interval boundaries are fixed to the agreed start
 * time (wall clock) so every agent's interval N covers the same span.
 */
export class LoadRun {
  readonly #plan: AgentPlan;
  readonly #events: LoadRunEvents;
  readonly #recorder = new Recorder();
  readonly #pool: ClientPool;
  readonly #driver: Driver;
  #startEpochMs = 0;
  #index = 0;
  #intervalStartMs = 0;
  #timers: NodeJS.Timeout[] = [];
  #intervalTimer: NodeJS.Timeout | undefined;
  #stopping = false;
  #finished = false;

  constructor(plan: AgentPlan, events: LoadRunEvents) {
    this.#plan = plan;
    this.#events = events;
    // The pool needs a listener before the driver (which needs the pool's slots) exists.
    const listener: ExchangeListener = {
      completed: (slot, status, bytes, error) => this.#driver.completed(slot, status, bytes, error),
    };
    this.#pool = protocolNamed('http').createPool(plan, listener);
    this.#driver = plan.load.model === 'closed'
      ? new ClosedLoop(this.#pool.slots, this.#recorder)
      : new OpenLoop(this.#pool.slots, this.#recorder, plan.load);
  }

  /** Starts load at wall-clock `atMs` (this host's clock) and stops it after the plan's duration. */
  startAt(atMs: number): void {
    this.#startEpochMs = atMs;
    this.#intervalStartMs = atMs;
    this.#timers.push(setTimeout(() => this.#begin(), Math.max(0, atMs - Date.now())));
  }

  /** Stops early: no new exchange starts; in-flight ones drain, then the last interval is sent. */
  stop(): void {
    if (this.#stopping) return;
    this.#stopping = true;
    this.#driver.stop();
    const bound = this.#plan.timeouts.requestMs + this.#plan.timeouts.connectMs + drainGraceMs;
    this.#timers.push(setTimeout(() => void this.#finish(), bound));
    this.#driver.onDrained(() => void this.#finish());
  }

  /** Stops at once (the coordinator is gone): closes every connection, sends nothing more. */
  async abort(): Promise<void> {
    this.#finished = true;
    this.#driver.stop();
    this.#clearTimers();
    await this.#pool.close();
  }

  #begin(): void {
    if (this.#finished) return;
    // Time zero is the agreed start, not when this timer happened to fire: a late
    // start makes the first arrivals late (and measured so), never shifts the schedule.
    this.#driver.start(performance.now() - Math.max(0, Date.now() - this.#startEpochMs));
    this.#scheduleInterval();
    // Timers may fire a millisecond early; the guard keeps the last arrival (due just before the end) in the run.
    const endGuardMs = 2;
    this.#timers.push(setTimeout(() => this.stop(), Math.max(0, this.#startEpochMs + this.#plan.load.durationMs + endGuardMs - Date.now())));
  }

  #scheduleInterval(): void {
    const boundary = this.#startEpochMs + (this.#index + 1) * this.#plan.intervalMs;
    this.#intervalTimer = setTimeout(() => {
      this.#emitInterval(boundary);
      this.#scheduleInterval();
    }, Math.max(0, boundary - Date.now()));
  }

  #emitInterval(endMs: number): void {
    this.#driver.account(performance.now());
    const { counters, histograms } = this.#recorder.takeInterval(this.#driver.inFlight, this.#pool.openConnections());
    this.#events.interval({
      type: 'interval',
      agentId: this.#plan.agentId,
      index: this.#index,
      startMs: this.#intervalStartMs,
      endMs,
      counters,
      histograms,
    });
    this.#index += 1;
    this.#intervalStartMs = endMs;
  }

  async #finish(): Promise<void> {
    if (this.#finished) return;
    this.#finished = true;
    this.#clearTimers();
    await this.#pool.close();
    this.#emitInterval(Math.max(Date.now(), this.#intervalStartMs));
    this.#events.finished();
  }

  #clearTimers(): void {
    for (const timer of this.#timers) clearTimeout(timer);
    this.#timers = [];
    if (this.#intervalTimer !== undefined) clearTimeout(this.#intervalTimer);
  }
}
