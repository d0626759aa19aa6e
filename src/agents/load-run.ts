import { performance } from 'node:perf_hooks';
import { HealthProbe } from './health-probe.js';
import { Recorder } from '../metrics/recorder.js';
import type { AgentPlan } from '../scenarios/plan.js';
import { requestNamesOf } from '../scenarios/request-names.js';
import type { CoordinatorClock } from '../sessions/clock.js';
import { JourneyFleet } from '../sessions/journey-fleet.js';
import { UserFleet } from '../sessions/user-fleet.js';
import type { IntervalMessage } from '../wire/messages.js';
import { RequestWorkload } from './request-workload.js';
import type { TargetPolicy } from './target-policy.js';
import type { Workload } from './workload.js';

/** What a run tells its owner: each interval, then the end (after the last interval). */
export interface LoadRunEvents {
  interval(message: IntervalMessage): void;
  finished(): void;
}

/**
 * One agent's load for one plan: the workload (request load or virtual
 * users), the recorder and the interval clock. Interval boundaries are fixed to the agreed start
 * time (wall clock) so every agent's interval N covers the same span.
 */
export class LoadRun {
  readonly #plan: AgentPlan;
  readonly #events: LoadRunEvents;
  readonly #recorder: Recorder;
  readonly #health = new HealthProbe();
  readonly #workload: Workload;
  #startEpochMs = 0;
  #index = 0;
  #intervalStartMs = 0;
  #timers: NodeJS.Timeout[] = [];
  #intervalTimer: NodeJS.Timeout | undefined;
  #stopping = false;
  #finished = false;

  readonly #ignoreStop: boolean;

  /** `ignoreStop` is a test-only setting (SPEAR_TEST_IGNORE_STOP): the run never stops by itself or when told. */
  constructor(plan: AgentPlan, events: LoadRunEvents, clock: CoordinatorClock, targetPolicy?: TargetPolicy, ignoreStop = false) {
    this.#plan = plan;
    this.#ignoreStop = ignoreStop;
    this.#events = events;
    this.#recorder = new Recorder(requestNamesOf(plan).length);
    this.#workload = plan.protocol === 'http'
      ? new RequestWorkload(plan, this.#recorder, targetPolicy?.lookup)
      : plan.protocol === 'http-flow' ? new JourneyFleet(plan, this.#recorder, targetPolicy) : new UserFleet(plan, this.#recorder, clock, targetPolicy);
  }

  /** Starts load at wall-clock `atMs` (this host's clock) and stops it after the plan's duration. */
  startAt(atMs: number): void {
    this.#startEpochMs = atMs;
    this.#intervalStartMs = atMs;
    this.#timers.push(setTimeout(() => this.#begin(), timerDelay(atMs - Date.now())));
  }

  /** Stops early: no new exchange starts; in-flight ones drain, then the last interval is sent. */
  stop(): void {
    if (this.#stopping || this.#ignoreStop) return;
    this.#stopping = true;
    this.#workload.stop();
    this.#timers.push(setTimeout(() => void this.#finish(), timerDelay(this.#workload.drainBoundMs)));
    this.#workload.onDrained(() => void this.#finish());
  }

  /** Stops at once (the coordinator is gone): closes every connection, sends nothing more. */
  async abort(): Promise<void> {
    this.#finished = true;
    this.#workload.stop();
    this.#clearTimers();
    await this.#workload.close();
  }

  #begin(): void {
    if (this.#finished) return;
    // Time zero is the agreed start, not when this timer happened to fire: a late
    // start makes the first arrivals late (and measured so), never shifts the schedule.
    this.#workload.start(performance.now() - Math.max(0, Date.now() - this.#startEpochMs));
    this.#scheduleInterval();
    // Timers may fire a millisecond early; the guard keeps the last arrival (due just before the end) in the run.
    const endGuardMs = 2;
    this.#timers.push(setTimeout(() => this.stop(), timerDelay(this.#startEpochMs + this.#plan.load.durationMs + endGuardMs - Date.now())));
  }

  #scheduleInterval(): void {
    const boundary = this.#startEpochMs + (this.#index + 1) * this.#plan.intervalMs;
    this.#intervalTimer = setTimeout(() => {
      this.#emitInterval(boundary);
      this.#scheduleInterval();
    }, Math.max(0, boundary - Date.now()));
  }

  #emitInterval(endMs: number): void {
    this.#workload.account(performance.now());
    const { counters, histograms, requests } = this.#recorder.takeInterval(this.#workload.inFlight, this.#workload.openConnections());
    const sessions = this.#workload.takeSessionReport();
    this.#events.interval({
      type: 'interval',
      agentId: this.#plan.agentId,
      index: this.#index,
      startMs: this.#intervalStartMs,
      endMs,
      counters,
      histograms,
      ...(sessions === undefined ? {} : { sessions }),
      ...(requests === undefined ? {} : { requests }),
      health: this.#health.take(this.#workload.takeConnectGauges(), Date.now() - endMs),
    });
    this.#index += 1;
    this.#intervalStartMs = endMs;
  }

  async #finish(): Promise<void> {
    if (this.#finished) return;
    this.#finished = true;
    this.#clearTimers();
    await this.#workload.close();
    this.#emitInterval(Math.max(Date.now(), this.#intervalStartMs));
    this.#health.close();
    this.#events.finished();
  }

  #clearTimers(): void {
    for (const timer of this.#timers) clearTimeout(timer);
    this.#timers = [];
    if (this.#intervalTimer !== undefined) clearTimeout(this.#intervalTimer);
  }
}

/** Largest delay setTimeout keeps; beyond it Node fires at once (plan sums such as timeout + timeout can pass it). */
const maxTimerMs = 2 ** 31 - 1;

/** A delay setTimeout honours: at least 0, at most `maxTimerMs`. */
function timerDelay(ms: number): number {
  return Math.min(maxTimerMs, Math.max(0, ms));
}
