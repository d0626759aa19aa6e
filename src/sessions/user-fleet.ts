import { performance } from 'node:perf_hooks';
import { Agent as HttpAgent } from 'undici';
import type { TargetPolicy } from '../agents/target-policy.js';
import type { Workload } from '../agents/workload.js';
import type { ConnectGauges } from '../agents/health-probe.js';
import type { Recorder } from '../metrics/recorder.js';
import { SessionRecorder } from '../metrics/session-recorder.js';
import { sessionProtocolNamed } from '../protocols/registry.js';
import type { SessionFactory } from '../protocols/session.js';
import { sendsBroadcasts } from '../scenarios/flow.js';
import { usersOfAgent, type SessionPlan } from '../scenarios/plan.js';
import type { SessionReport } from '../wire/messages.js';
import { BroadcastTracker } from './broadcast-tracker.js';
import type { CoordinatorClock } from './clock.js';
import { compileFlow } from './compiled-flow.js';
import { targetUsersAt } from './user-ramp.js';
import { VirtualUser, type FleetContext } from './virtual-user.js';

/** How often the ramp starts the users that came due. */
const rampTickMs = 5;
/** HTTP connections per origin for flow `http` steps (ticket APIs and the like); they come out of the agent's descriptor reserve. */
const httpConnectionsPerOrigin = 16;
const drainGraceMs = 1000;
/**
 * Handshakes in flight per agent at most: past it the ramp waits. A server
 * slower than the connect rate then sees back-pressure instead of a SYN
 * flood, and the agent does not hold thousands of half-open sockets
 * (measured: 19,900 users at 100,000/s peaked at 433 MB RSS, at 4,000/s 289 MB).
 */
const maxConnecting = 2000;

/**
 * All virtual users of one agent: starts them along the ramp (this agent's
 * share of the global user indices: i mod agentCount = agentId), stops them
 * at the end, keeps their connections open for one broadcast window so
 * deliveries in flight are counted, then closes them.
 */
export class UserFleet implements Workload {
  readonly #plan: SessionPlan;
  readonly #context: FleetContext;
  readonly #sessionRecorder = new SessionRecorder();
  readonly #tracker: BroadcastTracker;
  readonly #sessions: SessionFactory;
  readonly #http: HttpAgent;
  readonly #localUsers: number;
  readonly #users: VirtualUser[] = [];
  readonly #gauges = { connected: 0, joined: 0, connecting: 0 };
  readonly #windowMs: number;
  readonly drainBoundMs: number;
  #startedAt = 0;
  #rampTimer: NodeJS.Timeout | undefined;
  #drainTimer: NodeJS.Timeout | undefined;
  #everConnected = 0;
  #allConnectedUs = 0;
  #stopping = false;
  #drained = false;
  #drainListener: (() => void) | undefined;

  constructor(plan: SessionPlan, recorder: Recorder, clock: CoordinatorClock, targetPolicy?: TargetPolicy) {
    this.#plan = plan;
    this.#localUsers = usersOfAgent(plan.load.users, plan.agentId, plan.agentCount);
    this.#tracker = new BroadcastTracker({
      agentId: plan.agentId,
      agentCount: plan.agentCount,
      localUsers: this.#localUsers,
      groupSize: plan.groups.size,
      timeoutMs: plan.broadcast.timeoutMs,
      includeSender: plan.broadcast.includeSender,
    }, clock, this.#sessionRecorder);
    this.#sessions = sessionProtocolNamed(plan.protocol)({
      connectTimeoutMs: plan.timeouts.connectMs,
      perMessageDeflate: plan.connection.perMessageDeflate,
      socketio: plan.socketio,
    });
    this.#http = new HttpAgent({ connections: httpConnectionsPerOrigin, connect: { timeout: plan.timeouts.connectMs } });
    this.#windowMs = sendsBroadcasts(plan.flow) ? plan.broadcast.timeoutMs : 0;
    this.drainBoundMs = this.#windowMs + drainGraceMs;
    this.#context = {
      plan,
      flow: compileFlow(plan.flow),
      clock,
      sessions: this.#sessions,
      recorder,
      sessionRecorder: this.#sessionRecorder,
      tracker: this.#tracker,
      http: this.#http,
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
    this.#rampTimer = setInterval(() => this.#ramp(), rampTickMs);
  }

  stop(): void {
    if (this.#stopping) return;
    this.#stopping = true;
    clearInterval(this.#rampTimer);
    for (const user of this.#users) user.stop();
    // Broadcasts sent just before the end still travel: keep listening for one window.
    this.#drainTimer = setTimeout(() => this.#finishDrain(), this.#windowMs);
  }

  onDrained(listener: () => void): void {
    if (this.#drained) listener();
    else this.#drainListener = listener;
  }

  account(): void {}

  openConnections(): number {
    return this.#gauges.connected;
  }

  takeSessionReport(): SessionReport {
    const { counters, histograms } = this.#sessionRecorder.takeInterval(this.#gauges.connected, this.#gauges.joined, this.#allConnectedUs);
    return { counters, histograms, ...this.#tracker.takeInterval() };
  }

  takeConnectGauges(): ConnectGauges {
    return { connecting: this.#gauges.connecting, connectsStarted: 0, connectsBehind: 0 };
  }

  async close(): Promise<void> {
    clearInterval(this.#rampTimer);
    clearTimeout(this.#drainTimer);
    this.#stopping = true;
    for (const user of this.#users) user.close();
    this.#sessions.dispose();
    await this.#http.close();
  }

  #finishDrain(): void {
    this.#drained = true;
    this.#drainListener?.();
  }

  /** Starts every local user whose global index the ramp has reached; retires those above a falling target. */
  #ramp(): void {
    const elapsed = performance.now() - this.#startedAt;
    const target = targetUsersAt(this.#plan.load, elapsed);
    const plan = this.#plan;
    // Local user k has global index agentId + k·agentCount.
    const wanted = Math.min(this.#localUsers, target <= plan.agentId ? 0 : Math.ceil((target - plan.agentId) / plan.agentCount));
    while (this.#users.length < wanted && this.#gauges.connecting < maxConnecting) {
      const user = new VirtualUser(plan.agentId + this.#users.length * plan.agentCount, this.#context);
      this.#users.push(user);
      void user.run();
    }
    while (this.#users.length > wanted) this.#users.pop()?.close();
    if (elapsed >= plan.load.durationMs - plan.load.holdMs && this.#users.length >= wanted) clearInterval(this.#rampTimer);
  }

  #firstConnect(clock: CoordinatorClock): void {
    this.#everConnected += 1;
    if (this.#everConnected === this.#localUsers) this.#allConnectedUs = clock.nowUs();
  }
}
