import { performance } from 'node:perf_hooks';
import type { Recorder } from '../metrics/recorder.js';
import { ArrivalQueue } from '../scenarios/arrival-queue.js';
import type { IterationArrivals } from '../scenarios/flow.js';
import type { UserAssignment } from '../scenarios/user-assignment.js';

/** A user that can run one iteration meant to start at a given time (performance.now() ms). */
export interface IterationRunner {
  iterate(intendedAt: number): Promise<void>;
}

/**
 * The open model of an HTTP journey (k6's arrival-rate executors):
 * iterations start on the run's arrival schedule whatever the server does,
 * each on an idle user, and each is timed from its intended start. As in
 * OpenLoop (both keep their books in ArrivalQueue), an arrival that waited
 * longer than maxDelay is counted as dropped (every user was busy: the iterations took
 * longer than users ÷ rate allows), never skipped silently. Every agent
 * computes the whole run's schedule and takes the arrivals the user
 * assignment gives it (arrival k as if it were user k: every agentCount-th,
 * or in proportion to agent weights), so the run's total and times are
 * exact however many agents share it.
 * Event-loop only.
 */
export class JourneyArrivals {
  readonly #arrivals: ArrivalQueue;
  readonly #recorder: Recorder;
  readonly #idle: IterationRunner[];
  #startAt = 0;
  #inFlight = 0;
  #stopped = false;
  #timer: NodeJS.Timeout | undefined;
  #drained: (() => void) | undefined;

  constructor(arrivals: IterationArrivals, assignment: UserAssignment, agentId: number, users: readonly IterationRunner[], recorder: Recorder) {
    this.#arrivals = new ArrivalQueue(arrivals, {
      indexOf: (local) => assignment.indexOf(agentId, local),
      countBelow: (count) => assignment.usersOf(agentId, count),
    });
    this.#recorder = recorder;
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
    const scheduled = this.#arrivals.takeScheduled(now - this.#startAt);
    if (scheduled > 0) this.#recorder.schedule(scheduled);
    this.#dropStale(now - this.#startAt);
  }

  /** Starts nothing more; arrivals that came due and never started are dropped. */
  stop(): void {
    if (this.#stopped) return;
    this.account(performance.now());
    this.#stopped = true;
    clearTimeout(this.#timer);
    const unsent = this.#arrivals.takeUnsent();
    if (unsent > 0) this.#recorder.drop(unsent);
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
      const intended = this.#arrivals.takeDue(elapsed);
      if (intended === undefined) return;
      const user = this.#idle.pop()!;
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
    const stale = this.#arrivals.takeStale(elapsed);
    if (stale > 0) this.#recorder.drop(stale);
  }

  /** Wakes up for the next arrival when a user is idle to take it. */
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
