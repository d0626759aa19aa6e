import { performance } from 'node:perf_hooks';
import { readFdLimit } from '../agents/fd-limit.js';
import type { ConnectGauges } from '../agents/health-probe.js';
import type { TargetPolicy } from '../agents/target-policy.js';
import type { Workload } from '../agents/workload.js';
import type { Recorder } from '../metrics/recorder.js';
import type { StepClient } from '../protocols/http/step-client.js';
import { targetTlsOptions } from '../protocols/target-tls.js';
import type { SessionPlan } from '../scenarios/plan.js';
import { assignmentOf, type UserAssignment } from '../scenarios/user-assignment.js';
import { compileFlow } from './compiled-flow.js';
import { flowStepClient } from './http-exchange.js';
import { JourneyArrivals } from './journey-arrivals.js';
import { JourneyUser, type JourneyContext } from './journey-user.js';
import { fleetPacing, httpPoolSize, testHttpConnections, type FleetPacing } from './user-fleet.js';
import { dueSlice, targetUsersAt } from './user-ramp.js';

/** How often the closed model's ramp starts the users that came due. */
const rampTickMs = 5;
/** Time for closing after the steps in flight, within the drain bound. */
const drainGraceMs = 1000;

/**
 * The users of one agent's HTTP journey (`protocol: http` with a `flow`),
 * over one shared client (spear's own HTTP/1.1 connections, a pool per
 * origin: src/protocols/http/step-client.ts). Closed model: users start along the ramp
 * (this agent's share of the global user indices, user-assignment.ts) and each repeats the
 * flow until the run stops. Open model (`load.arrivals`): every local user
 * starts idle, and JourneyArrivals hands each iteration of the schedule to
 * one. At the end no step starts; the steps in flight finish (or time out)
 * and count. Holds no long connection: the numbers are the HTTP ones.
 */
export class JourneyFleet implements Workload {
  readonly #plan: SessionPlan;
  readonly #pacing: FleetPacing;
  readonly #http: StepClient;
  readonly #context: JourneyContext;
  readonly #assignment: UserAssignment;
  readonly #localUsers: number;
  readonly #users: JourneyUser[] = [];
  /** Closed model: each user's run, so the end waits for the steps in flight. */
  readonly #runs: Promise<void>[] = [];
  readonly #arrivals: JourneyArrivals | undefined;
  readonly drainBoundMs: number;
  #startedAt = 0;
  #rampTimer: NodeJS.Timeout | undefined;
  #stopping = false;
  #drained = false;
  #drainListener: (() => void) | undefined;

  constructor(plan: SessionPlan, recorder: Recorder, targetPolicy?: TargetPolicy, pacing: FleetPacing = fleetPacing) {
    this.#plan = plan;
    this.#pacing = pacing;
    this.#assignment = assignmentOf(plan);
    this.#localUsers = this.#assignment.usersOf(plan.agentId, plan.load.users);
    const connections = pacing.httpConnections ?? testHttpConnections() ?? httpPoolSize(this.#localUsers, readFdLimit(), false);
    this.#http = flowStepClient(plan, recorder, connections, targetTlsOptions(plan.tls), targetPolicy);
    this.#context = {
      plan,
      flow: compileFlow(plan.flow),
      http: this.#http,
      recorder,
      targetPolicy,
      feederColumns: new Map((plan.feeder?.columns ?? []).map((column, position) => [column, position])),
    };
    this.drainBoundMs = plan.timeouts.requestMs + drainGraceMs;
    const arrivals = plan.load.arrivals;
    if (arrivals !== undefined) {
      for (let local = 0; local < this.#localUsers; local += 1) this.#users.push(this.#user(local));
      this.#arrivals = new JourneyArrivals(arrivals, this.#assignment, plan.agentId, this.#users, recorder);
    }
  }

  /** Open model: iterations running now; closed model: 0 (every user is always in one). */
  get inFlight(): number {
    return this.#arrivals?.inFlight ?? 0;
  }

  start(startAt: number): void {
    this.#startedAt = startAt;
    if (this.#arrivals !== undefined) {
      this.#arrivals.start(startAt);
      return;
    }
    this.#ramp();
    this.#rampTimer = setInterval(this.#ramp, rampTickMs);
  }

  stop(): void {
    if (this.#stopping) return;
    this.#stopping = true;
    clearInterval(this.#rampTimer);
    for (const user of this.#users) user.stop();
    if (this.#arrivals !== undefined) {
      this.#arrivals.onDrained(() => this.#finishDrain());
      this.#arrivals.stop();
    } else {
      void Promise.all(this.#runs).then(() => this.#finishDrain());
    }
  }

  onDrained(listener: () => void): void {
    if (this.#drained) listener();
    else this.#drainListener = listener;
  }

  account(now: number): void {
    this.#arrivals?.account(now);
  }

  /** The client's open connections, over every origin. */
  openConnections(): number {
    return this.#http.openConnections();
  }

  /** None: a journey holds no long connection, and its numbers are the HTTP ones. */
  takeSessionReport(): undefined {
    return undefined;
  }

  /** No handshakes of its own; closed model: users due but not started. */
  takeConnectGauges(): ConnectGauges {
    const behind = this.#stopping || this.#arrivals !== undefined ? 0 : Math.max(0, this.#wantedAt(performance.now() - this.#startedAt) - this.#users.length);
    return { connecting: 0, connectsStarted: 0, connectsBehind: behind };
  }

  async close(): Promise<void> {
    this.#stopping = true;
    clearInterval(this.#rampTimer);
    for (const user of this.#users) user.close();
    await this.#http.close();
  }

  #user(local: number): JourneyUser {
    const index = this.#assignment.indexOf(this.#plan.agentId, local);
    return new JourneyUser(index, Math.floor(index / this.#plan.groups.size), this.#context);
  }

  #finishDrain(): void {
    this.#drained = true;
    this.#drainListener?.();
  }

  /** Local users the closed model's ramp wants started `elapsedMs` after the start. */
  #wantedAt(elapsedMs: number): number {
    const plan = this.#plan;
    return Math.min(this.#localUsers, this.#assignment.usersOf(plan.agentId, targetUsersAt(plan.load, elapsedMs)));
  }

  /** Starts one slice of the users that came due; retires one slice above a falling target. */
  readonly #ramp = (): void => {
    if (this.#stopping) return;
    const wanted = this.#wantedAt(performance.now() - this.#startedAt);
    const slice = this.#pacing.slice;
    for (let count = dueSlice(wanted, this.#users.length, slice, slice); count > 0; count -= 1) {
      const user = this.#user(this.#users.length);
      this.#users.push(user);
      this.#runs.push(user.run());
    }
    for (let retired = 0; this.#users.length > wanted && retired < slice; retired += 1) this.#users.pop()?.stop();
    const load = this.#plan.load;
    if (performance.now() - this.#startedAt >= load.durationMs - load.holdMs && this.#users.length === wanted) clearInterval(this.#rampTimer);
  };
}
