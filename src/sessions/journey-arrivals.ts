import { performance } from 'node:perf_hooks';
import type { Recorder } from '../metrics/recorder.js';
import { ArrivalSchedule } from '../scenarios/arrival-schedule.js';
import type { IterationArrivals } from '../scenarios/flow.js';
import type { UserAssignment } from '../scenarios/user-assignment.js';

/** A user that can run one iteration meant to start at a given time (performance.now() ms). */
export interface IterationRunner {
  iterate(intendedAt: number): Promise<void>;
}

/**
 * The open model of an HTTP journey (k6's arrival-rate executors):
 * iterations start on the run's arrival schedule whatever the server does,
 * each on an idle user, and each is timed from its intended start. Like
 * OpenLoop there is no queue: arrivals waiting for a user are the indexes
 * between `#next` and the one due now; one that waited longer than
 * maxDelay is counted as dropped (every user was busy: the iterations took
 * longer than users ÷ rate allows), never skipped silently. Every agent
 * computes the whole run's schedule and takes the arrivals the user
 * assignment gives it (arrival k as if it were user k: every agentCount-th,
 * or in proportion to agent weights), so the run's total and times are
 * exact however many agents share it.
 * Event-loop only.
 */
export class JourneyArrivals {
  readonly #schedule: ArrivalSchedule;
  readonly #assignment: UserAssignment;
  readonly #agentId: number;
  readonly #recorder: Recorder;
  readonly #maxDelayMs: number;
  readonly #idle: IterationRunner[];
  #startAt = 0;
  /** Local index of the next arrival to start. */
  #next = 0;
  /** Local arrivals counted into `scheduled` so far. */
  #accounted = 0;
  #inFlight = 0;
  #stopped = false;
  #timer: NodeJS.Timeout | undefined;
  #drained: (() => void) | undefined;

  constructor(arrivals: IterationArrivals, assignment: UserAssignment, agentId: number, users: readonly IterationRunner[], recorder: Recorder) {
    this.#schedule = new ArrivalSchedule(arrivals);
    this.#assignment = assignment;
    this.#agentId = agentId;
    this.#recorder = recorder;
    this.#maxDelayMs = arrivals.maxDelayMs;
    this.#idle = [...users];
  }

  /** Iterations running now. */
  get inFlight(): number {
    return this.#inFlight;
  }

  start(startAt: number): void {
    this.#startAt = startAt;
    this.#pump();
  }

  /** Counts the arrivals that came due by `now` as scheduled, and the stale ones as dropped. */
  account(now: number): void {
    if (this.#stopped) return;
    const due = this.#localBefore(this.#schedule.firstAtOrAfter(now - this.#startAt));
    if (due > this.#accounted) {
      this.#recorder.schedule(due - this.#accounted);
      this.#accounted = due;
    }
    this.#dropStale(now - this.#startAt);
  }

  /** Starts nothing more; arrivals that came due and never started are dropped. */
  stop(): void {
    if (this.#stopped) return;
    this.account(performance.now());
    this.#stopped = true;
    clearTimeout(this.#timer);
    if (this.#accounted > this.#next) {
      this.#recorder.drop(this.#accounted - this.#next);
      this.#next = this.#accounted;
    }
    this.#checkDrained();
  }

  /** Calls `listener` once, when stopped and no iteration runs. */
  onDrained(listener: () => void): void {
    this.#drained = listener;
    this.#checkDrained();
  }

  readonly #pump = (): void => {
    this.#timer = undefined;
    if (this.#stopped) return;
    const now = performance.now();
    this.#startDue(now);
    this.#arm(now);
  };

  /** Starts every due arrival that has an idle user. */
  #startDue(now: number): void {
    const elapsed = now - this.#startAt;
    this.#dropStale(elapsed);
    while (this.#idle.length > 0) {
      const intended = this.#timeOf(this.#next);
      if (intended === undefined || intended > elapsed) return;
      const user = this.#idle.pop()!;
      this.#next += 1;
      this.#inFlight += 1;
      void user.iterate(this.#startAt + intended).then(() => this.#finished(user));
    }
  }

  #finished(user: IterationRunner): void {
    this.#inFlight -= 1;
    this.#idle.push(user);
    if (this.#stopped) {
      this.#checkDrained();
      return;
    }
    const now = performance.now();
    this.#startDue(now);
    this.#arm(now);
  }

  /** Counts as dropped the arrivals that have waited longer than maxDelay for a user. */
  #dropStale(elapsed: number): void {
    const oldest = this.#timeOf(this.#next);
    if (oldest === undefined || elapsed - oldest <= this.#maxDelayMs) return;
    const fresh = this.#localBefore(this.#schedule.firstAtOrAfter(elapsed - this.#maxDelayMs));
    if (fresh > this.#next) {
      this.#recorder.drop(fresh - this.#next);
      this.#next = fresh;
    }
  }

  /** Wakes up for the next arrival when a user is idle to take it. */
  #arm(now: number): void {
    if (this.#timer !== undefined || this.#idle.length === 0 || this.#stopped) return;
    const intended = this.#timeOf(this.#next);
    if (intended === undefined) return;
    this.#timer = setTimeout(this.#pump, Math.max(0, this.#startAt + intended - now));
  }

  /** Intended time (ms from the start) of local arrival `j`; undefined past the run's last. */
  #timeOf(j: number): number | undefined {
    return this.#schedule.timeOfMs(this.#assignment.indexOf(this.#agentId, j));
  }

  /** Local arrivals among the run's first `k`. */
  #localBefore(k: number): number {
    return this.#assignment.usersOf(this.#agentId, k);
  }

  #checkDrained(): void {
    if (this.#stopped && this.#inFlight === 0 && this.#drained !== undefined) {
      const drained = this.#drained;
      this.#drained = undefined;
      drained();
    }
  }
}
