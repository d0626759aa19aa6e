import { performance } from 'node:perf_hooks';
import { fdReserve, readFdLimit } from '../agents/fd-limit.js';
import type { TargetPolicy } from '../agents/target-policy.js';
import type { Workload } from '../agents/workload.js';
import type { ConnectGauges } from '../agents/health-probe.js';
import type { Recorder } from '../metrics/recorder.js';
import { SessionRecorder } from '../metrics/session-recorder.js';
import { sessionProtocolNamed } from '../protocols/registry.js';
import { targetTlsOptions } from '../protocols/target-tls.js';
import type { StepClient } from '../protocols/http/step-client.js';
import type { SessionFactory } from '../protocols/session.js';
import { sendsBroadcasts } from '../scenarios/flow.js';
import { usersOfAgent, type SessionPlan } from '../scenarios/plan.js';
import { assignmentOf } from '../scenarios/user-assignment.js';
import type { SessionReport } from '../wire/messages.js';
import { BroadcastTracker } from './broadcast-tracker.js';
import type { CoordinatorClock } from './clock.js';
import { compileFlow, connectsFirst } from './compiled-flow.js';
import { ConnectGate } from './connect-gate.js';
import { flowStepClient } from './http-exchange.js';
import { SocketDrain, socketDrainMaxMs } from './socket-drain.js';
import { dueSlice, localTarget, targetUsersAt } from './user-ramp.js';
import { VirtualUser, type FleetContext } from './virtual-user.js';

/** How often the ramp starts the users that came due. */
const rampTickMs = 5;
/** Time for closing after the drain, within the drain bound. */
const drainGraceMs = 1000;

/** How one agent paces its users; `fleetPacing` is what runs use, tests shrink it. */
export interface FleetPacing {
  /**
   * Handshakes in flight per agent at most: past it the ramp waits. A server
   * slower than the connect rate then sees back-pressure instead of a SYN
   * flood, and the agent does not hold thousands of half-open sockets
   * (measured: 19,900 users at 100,000/s peaked at 433 MB RSS, at 4,000/s 289 MB).
   */
  readonly maxConnecting: number;
  /**
   * Users started, and connection attempts admitted, per event-loop turn at
   * most. Past ~14k open sockets a kernel connect() costs ~0.85 ms, so 64
   * bound a turn to ~55 ms (a fraction of a 1 s interval) while the loop
   * still starts thousands per second; a slice more costs only a setImmediate.
   */
  readonly slice: number;
  /** Pooled HTTP connections per origin for flow `http` steps; undefined: `httpPoolSize`. */
  readonly httpConnections?: number | undefined;
}

export const fleetPacing: FleetPacing = { maxConnecting: 2000, slice: 64 };

/** Most pooled HTTP connections per origin: a ticket API at 50 ms then serves ~5,000 users/s. */
const maxHttpConnections = 256;
/** What the pool may always use: the agent's descriptor reserve covers this many. */
const reserveHttpConnections = 16;

/**
 * Pooled HTTP connections per origin for flow `http` steps (ticket APIs and
 * the like). A user makes one request at a time, so more connections than
 * users never help; the client (StepClient) opens them only when every open one is busy, so
 * the size is a cap, not an allocation. Descriptors: each user holds one
 * long connection (none in an HTTP journey: `usersHoldConnections` false), so the pool gets what the open-file limit leaves beyond
 * the users and the agent's reserve (at least 16, which the reserve covers),
 * at most 256. A request that still waits for a connection is measured as
 * queue time, never as latency. Pure.
 */
export function httpPoolSize(localUsers: number, fdLimit: number | null, usersHoldConnections = true): number {
  const wanted = Math.max(1, Math.min(maxHttpConnections, localUsers));
  if (fdLimit === null) return wanted;
  const spare = fdLimit - fdReserve - (usersHoldConnections ? localUsers : 0);
  return Math.min(wanted, Math.max(reserveHttpConnections, spare));
}

/** A pool size a test asked for (SPEAR_TEST_HTTP_CONNECTIONS, to force queueing); undefined normally. */
export function testHttpConnections(environment: NodeJS.ProcessEnv = process.env): number | undefined {
  const value = Number(environment.SPEAR_TEST_HTTP_CONNECTIONS ?? '');
  return Number.isInteger(value) && value > 0 ? value : undefined;
}

/**
 * All virtual users of one agent: starts them along the ramp (this agent's
 * share of the global user indices: src/scenarios/user-assignment.ts), a slice
 * per loop turn and never past the handshake cap; stops them at the end,
 * keeps their connections open for one broadcast window so deliveries in
 * flight are counted, drains what the kernel still holds, then closes them.
 */
export class UserFleet implements Workload {
  readonly #plan: SessionPlan;
  readonly #pacing: FleetPacing;
  readonly #context: FleetContext;
  readonly #sessionRecorder = new SessionRecorder();
  readonly #tracker: BroadcastTracker;
  readonly #sessions: SessionFactory;
  readonly #http: StepClient;
  readonly #gate: ConnectGate;
  /** Users whose flow connects first get a handshake slot when started (see `#startUsers`). */
  readonly #reserveSlots: boolean;
  readonly #localUsers: number;
  readonly #users: VirtualUser[] = [];
  readonly #gauges = { connected: 0, joined: 0, received: 0 };
  readonly #windowMs: number;
  readonly #drain: SocketDrain;
  readonly drainBoundMs: number;
  #startedAt = 0;
  #rampTimer: NodeJS.Timeout | undefined;
  #rampSlice: NodeJS.Immediate | undefined;
  #rampDone = false;
  #windowTimer: NodeJS.Timeout | undefined;
  #everConnected = 0;
  #allConnectedUs = 0;
  #stopping = false;
  #drained = false;
  #drainListener: (() => void) | undefined;

  constructor(plan: SessionPlan, recorder: Recorder, clock: CoordinatorClock, targetPolicy?: TargetPolicy, pacing: FleetPacing = fleetPacing) {
    this.#plan = plan;
    this.#pacing = pacing;
    this.#localUsers = usersOfAgent(plan.load.users, plan.agentId, plan.agentCount, plan.userWeights);
    this.#tracker = new BroadcastTracker({
      agentId: plan.agentId,
      agentCount: plan.agentCount,
      localUsers: this.#localUsers,
      groupSize: plan.groups.size,
      timeoutMs: plan.broadcast.timeoutMs,
      includeSender: plan.broadcast.includeSender,
    }, clock, this.#sessionRecorder);
    // One secure context (tls.ca, tls.cert) for every connection of the fleet: WebSockets and flow http steps alike.
    const tls = targetTlsOptions(plan.tls);
    this.#sessions = sessionProtocolNamed(plan.protocol)({
      connectTimeoutMs: plan.timeouts.connectMs,
      perMessageDeflate: plan.connection.perMessageDeflate,
      lookup: targetPolicy?.lookup,
      tls,
      socketio: plan.socketio,
    });
    const connections = pacing.httpConnections ?? testHttpConnections() ?? httpPoolSize(this.#localUsers, readFdLimit());
    this.#http = flowStepClient(plan, recorder, connections, tls, targetPolicy);
    this.#gate = new ConnectGate(pacing.maxConnecting, pacing.slice);
    const flow = compileFlow(plan.flow);
    this.#reserveSlots = connectsFirst(flow);
    this.#windowMs = sendsBroadcasts(plan.flow) ? plan.broadcast.timeoutMs : 0;
    this.#drain = new SocketDrain(() => this.#gauges.received, () => this.#finishDrain(), () => this.#users.some((user) => user.awaitingReply));
    this.drainBoundMs = this.#windowMs + socketDrainMaxMs + drainGraceMs;
    this.#context = {
      plan,
      flow,
      clock,
      sessions: this.#sessions,
      recorder,
      sessionRecorder: this.#sessionRecorder,
      tracker: this.#tracker,
      http: this.#http,
      gate: this.#gate,
      gauges: this.#gauges,
      targetPolicy,
      feederColumns: new Map((plan.feeder?.columns ?? []).map((column, position) => [column, position])),
      firstConnect: () => this.#firstConnect(clock),
    };
  }

  get inFlight(): number {
    return 0;
  }

  start(startAt: number): void {
    this.#startedAt = startAt;
    this.#ramp();
    if (!this.#rampDone) this.#rampTimer = setInterval(() => this.#ramp(), rampTickMs);
  }

  stop(): void {
    if (this.#stopping) return;
    this.#stopping = true;
    this.#stopRamp();
    // Nobody waiting for a handshake slot connects any more.
    this.#gate.close();
    for (const user of this.#users) user.stop();
    // Broadcasts sent just before the end still travel: keep listening for one window, then drain.
    this.#windowTimer = setTimeout(() => this.#drain.start(), this.#windowMs);
  }

  onDrained(listener: () => void): void {
    if (this.#drained) listener();
    else this.#drainListener = listener;
  }

  account(): void {}

  /** Long connections held. */
  openConnections(): number {
    return this.#gauges.connected;
  }

  takeSessionReport(): SessionReport {
    const { counters, histograms } = this.#sessionRecorder.takeInterval(this.#gauges.connected, this.#gauges.joined, this.#allConnectedUs);
    return { counters, histograms, ...this.#tracker.takeInterval() };
  }

  /** Slots held (handshakes in flight and users reserved for one), attempts started since the last call, users due but not started. */
  takeConnectGauges(): ConnectGauges {
    const behind = this.#stopping ? 0 : Math.max(0, this.#wantedAt(performance.now() - this.#startedAt) - this.#users.length);
    return { connecting: this.#gate.held, connectsStarted: this.#gate.takeStarted(), connectsBehind: behind };
  }

  async close(): Promise<void> {
    this.#stopping = true;
    this.#stopRamp();
    clearTimeout(this.#windowTimer);
    this.#drain.cancel();
    this.#gate.close();
    for (const user of this.#users) user.close();
    this.#sessions.dispose();
    await this.#http.close();
  }

  #finishDrain(): void {
    this.#drained = true;
    this.#drainListener?.();
  }

  #stopRamp(): void {
    clearInterval(this.#rampTimer);
    if (this.#rampSlice !== undefined) clearImmediate(this.#rampSlice);
    this.#rampSlice = undefined;
  }

  /** Local users the ramp wants started `elapsedMs` after the start. */
  #wantedAt(elapsedMs: number): number {
    const plan = this.#plan;
    return localTarget(targetUsersAt(plan.load, elapsedMs), plan.agentId, plan.agentCount, this.#localUsers, plan.userWeights);
  }

  /**
   * Starts one slice of the users that came due (retires one slice above a
   * falling target); with more due and room for them, the next slice runs
   * after the loop has polled for I/O (setImmediate), never in this turn.
   */
  readonly #ramp = (): void => {
    this.#rampSlice = undefined;
    if (this.#stopping) return;
    // One reading of the clock: the target and the end-of-ramp check must agree.
    const elapsed = performance.now() - this.#startedAt;
    const wanted = this.#wantedAt(elapsed);
    const slice = this.#pacing.slice;
    const started = this.#startUsers(dueSlice(wanted, this.#users.length, this.#reserveSlots ? this.#gate.free : slice, slice));
    let retired = 0;
    while (this.#users.length > wanted && retired < slice) {
      this.#users.pop()?.close();
      retired += 1;
    }
    if ((started === slice && this.#users.length < wanted) || retired === slice) {
      this.#rampSlice ??= setImmediate(this.#ramp);
    }
    const plan = this.#plan;
    if (elapsed >= plan.load.durationMs - plan.load.holdMs && this.#users.length === wanted) {
      this.#rampDone = true;
      clearInterval(this.#rampTimer);
    }
  };

  /**
   * Starts `count` users. When the flow connects before anything else but
   * `http` steps, each takes a handshake slot now, synchronously: the cap
   * then holds before any user reaches an `await`. Returns how many started.
   */
  #startUsers(count: number): number {
    const plan = this.#plan;
    for (let started = 0; started < count; started += 1) {
      const reserved = this.#reserveSlots && this.#gate.reserve();
      if (this.#reserveSlots && !reserved) return started;
      const index = assignmentOf(plan).indexOf(plan.agentId, this.#users.length);
      const user = new VirtualUser(index, this.#context, reserved);
      this.#users.push(user);
      void user.run();
    }
    return count;
  }

  #firstConnect(clock: CoordinatorClock): void {
    this.#everConnected += 1;
    if (this.#everConnected === this.#localUsers) this.#allConnectedUs = clock.nowUs();
  }
}
