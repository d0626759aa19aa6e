import { performance } from 'node:perf_hooks';
import { errorKeyAs } from '../metrics/error-kind.js';
import type { Recorder } from '../metrics/recorder.js';
import type { SessionRecorder } from '../metrics/session-recorder.js';
import { ExchangeError } from '../protocols/exchange-error.js';
import type { Session, SessionFactory, SessionListener } from '../protocols/session.js';
import type { SessionPlan } from '../scenarios/plan.js';
import { sourceAddressOf } from '../scenarios/source-addresses.js';
import { assignmentOf } from '../scenarios/user-assignment.js';
import type { TargetPolicy } from '../agents/target-policy.js';
import type { BroadcastTracker, Member } from './broadcast-tracker.js';
import type { CoordinatorClock } from './clock.js';
import { expectedEvents, type CompiledStep } from './compiled-flow.js';
import type { ConnectGate } from './connect-gate.js';
import { judge, type Expectation } from './expectation.js';
import type { StepClient } from '../protocols/http/step-client.js';
import { checkTarget, httpStep } from './flow-http.js';
import { Inbox, type KeptMessage } from './inbox.js';
import { renderTemplate, valueAt, type VariableSource } from './template.js';
import { userVariable } from './user-variables.js';

/** What every user of an agent shares. */
export interface FleetContext {
  readonly plan: SessionPlan;
  readonly flow: readonly CompiledStep[];
  readonly clock: CoordinatorClock;
  readonly sessions: SessionFactory;
  readonly recorder: Recorder;
  readonly sessionRecorder: SessionRecorder;
  readonly tracker: BroadcastTracker;
  readonly http: StepClient;
  /** Handshake slots and the per-turn connect budget: every connection attempt passes here first. */
  readonly gate: ConnectGate;
  /** `received` counts messages and acks ever received (the end-of-run drain watches it). */
  readonly gauges: { connected: number; joined: number; received: number };
  /** Where this agent may send load (remote agents started with --allow-target); URLs from tickets are checked per user. */
  readonly targetPolicy: TargetPolicy | undefined;
  /** Feeder column positions by name (empty without a feeder). */
  readonly feederColumns: ReadonlyMap<string, number>;
  /** Called the first time each user connects. */
  firstConnect(): void;
}

/** Thrown to unwind a flow that ended for a reason already counted (or none: the run stopped). */
class FlowEnd extends Error {}
const stopped = new FlowEnd('stopped');
const counted = new FlowEnd('counted');

type WaitKind = 'expect' | 'ack' | 'sleep';

interface Waiter {
  readonly kind: WaitKind;
  readonly resolve: (value: unknown) => void;
  readonly reject: (error: unknown) => void;
  readonly timer: NodeJS.Timeout | undefined;
  /** An expect's step, match and contains for this user (templates rendered). */
  readonly expectation: Expectation | undefined;
  readonly ackId: number;
}

/**
 * One virtual user: runs its flow once, then holds its connection until the
 * run ends; on a disconnect or a failed step it starts the flow again under
 * the reconnect policy (backoff with full jitter), or gives up. Everything
 * a user waits for (a reply, an ack, a sleep, the hold) is one waiter, so a
 * disconnect or the end of the run unwinds it at once. A message no waiter
 * takes goes to the user's small inbox (`Inbox`), which each `expect` reads
 * first: the next step's waiter starts only after an awaited continuation,
 * while ws delivers every frame of one read at once.
 */
export class VirtualUser implements SessionListener, Member, VariableSource {
  readonly index: number;
  readonly group: number;
  readonly slot: number;
  joinedAtUs = 0;
  readonly #context: FleetContext;
  #session: Session | undefined;
  /** A session whose handshake is in flight (closed too when the run ends). */
  #opening: Session | undefined;
  #captures: Map<string, unknown> | undefined;
  /** Messages no step took yet, for the next expects (created on first use, dropped when the flow completes or the connection ends). */
  #inbox: Inbox | undefined;
  /** Event names the flow's expects wait for: only those go to the inbox. */
  readonly #expected: ReadonlySet<string>;
  #iteration = 0;
  #attempt = 0;
  #connectedBefore = false;
  /** The flow runs again under the reconnect policy: connections it opens are reconnects. */
  #retrying = false;
  #waiter: Waiter | undefined;
  #stopping = false;
  /** The flow completed; the connection is held until the run ends or it drops. */
  #holding = false;
  #lastSentAt = 0;
  #nextAckId = 0;
  /** This user holds a handshake slot of the gate (reserved at start, or admitted for a connect). */
  #holdsSlot: boolean;

  /** `reserved`: the fleet took a handshake slot for this user as it started it; the user gives it back. */
  constructor(index: number, context: FleetContext, reserved = false) {
    this.index = index;
    this.group = Math.floor(index / context.plan.groups.size);
    this.slot = assignmentOf(context.plan).slotOf(index);
    this.#context = context;
    this.#holdsSlot = reserved;
    this.#expected = expectedEvents(context.flow);
  }

  /** Runs the user until the run stops or it gives up. Never rejects. */
  async run(): Promise<void> {
    this.#context.sessionRecorder.counters.usersStarted += 1;
    await this.#cycle();
  }

  /**
   * Runs the flow, retrying under the policy, until it completes (the user
   * then holds its connection with nothing pending: no promise, no timer,
   * which is most of a held user's memory) or gives up. A later disconnect
   * starts a new cycle from `closed`.
   */
  async #cycle(): Promise<void> {
    for (;;) {
      let completed = false;
      try {
        await this.#steps(this.#context.flow);
        completed = true;
      } catch (error) {
        if (!(error instanceof FlowEnd)) this.#context.recorder.failure(error);
      }
      // A flow that ended before its connect gives back the slot reserved for it.
      this.#releaseSlot();
      // Nothing waits any more: a held user keeps no messages.
      this.#inbox = undefined;
      if (completed) {
        if (!this.#stopping) this.#holding = true;
        return;
      }
      if (this.#stopping) return;
      this.#disconnect();
      if (!(await this.#backoff())) return;
    }
  }

  /** The run is over: start nothing new; connections stay open (late broadcasts still arrive). */
  stop(): void {
    this.#stopping = true;
    const waiter = this.#waiter;
    if (waiter?.kind === 'sleep') this.#settle(undefined, stopped);
  }

  /** Waiting for the reply to what it sent (an ack, or an `expect` after a send), not for a broadcast, a sleep or a hold. */
  get awaitingReply(): boolean {
    const kind = this.#waiter?.kind;
    return kind === 'ack' || (kind === 'expect' && this.#lastSentAt > 0);
  }

  /** Closes the connection for good. */
  close(): void {
    this.#stopping = true;
    if (this.#waiter !== undefined) this.#settle(undefined, stopped);
    this.#opening?.close();
    this.#disconnect();
    this.#releaseSlot();
  }

  message(event: string, frame: Buffer, payloadStart: number): void {
    const context = this.#context;
    context.gauges.received += 1;
    context.sessionRecorder.counters.messagesReceived += 1;
    const broadcastEvent = context.plan.broadcast.event;
    if (broadcastEvent === undefined || event === broadcastEvent) context.tracker.receive(frame, payloadStart, this);
    const waiter = this.#waiter;
    if (waiter?.expectation !== undefined && this.#offer(waiter.expectation, event, frame, payloadStart, -1)) return;
    // Not taken now: keep it for a later expect, unless the user only sleeps or holds (broadcasts, mostly).
    if (waiter?.kind === 'sleep' || this.#holding || !this.#expected.has(event)) return;
    (this.#inbox ??= new Inbox()).keep(event, frame, payloadStart, performance.now());
  }

  acked(ackId: number, frame: Buffer, payloadStart: number): void {
    this.#context.gauges.received += 1;
    const waiter = this.#waiter;
    if (waiter?.kind !== 'ack' || waiter.ackId !== ackId) return;
    this.#context.sessionRecorder.replied(Math.round((performance.now() - this.#lastSentAt) * 1000));
    this.#lastSentAt = 0;
    this.#settle(frame, undefined);
  }

  closed(error: unknown): void {
    const context = this.#context;
    context.sessionRecorder.counters.disconnects += 1;
    context.recorder.failureKey(errorKeyAs('disconnect', error), error);
    this.#lost();
    if (this.#waiter !== undefined) {
      this.#settle(undefined, counted);
    } else if (this.#holding && !this.#stopping) {
      this.#holding = false;
      void this.#reconnect();
    }
  }

  /** A held connection dropped: back off under the policy, then run the flow again. */
  async #reconnect(): Promise<void> {
    if (await this.#backoff()) await this.#cycle();
  }

  /** Waits the next backoff (full jitter); false when the policy is spent or the run stopped. */
  async #backoff(): Promise<boolean> {
    const policy = this.#context.plan.reconnect;
    if (policy === undefined || this.#attempt >= policy.attempts) return false;
    this.#attempt += 1;
    try {
      await this.#wait('sleep', Math.random() * Math.min(policy.maxDelayMs, policy.initialDelayMs * 2 ** (this.#attempt - 1)));
    } catch {
      return false;
    }
    this.#retrying = true;
    return !this.#stopping;
  }

  async #steps(steps: readonly CompiledStep[]): Promise<void> {
    for (const step of steps) {
      if (this.#stopping) throw stopped;
      await this.#step(step);
    }
  }

  async #step(step: CompiledStep): Promise<void> {
    switch (step.kind) {
      case 'http':
        return this.#http(step);
      case 'connect':
        return this.#connect(step);
      case 'emit': {
        const session = this.#openSession();
        const ackId = step.ack ? this.#nextAckId++ : -1;
        const data = step.data === undefined ? undefined : renderTemplate(step.data, true, this);
        this.#lastSentAt = performance.now();
        session.emit(step.event, data, ackId);
        this.#context.sessionRecorder.counters.messagesSent += 1;
        if (step.ack) await this.#wait('ack', this.#context.plan.timeouts.requestMs, undefined, ackId);
        return;
      }
      case 'send': {
        const session = this.#openSession();
        const text = renderTemplate(step.data, step.json, this);
        this.#lastSentAt = performance.now();
        session.send(step.binary ? Buffer.from(text) : text);
        this.#context.sessionRecorder.counters.messagesSent += 1;
        return;
      }
      case 'expect':
        await this.#wait('expect', step.step.timeoutMs, step);
        return;
      case 'join':
        if (this.joinedAtUs === 0) {
          this.#context.tracker.joined(this);
          this.#context.gauges.joined += 1;
        }
        return;
      case 'sleep':
        await this.#wait('sleep', step.durationMs);
        return;
      case 'every':
        return this.#every(step.intervalMs, step.steps);
    }
  }

  async #every(intervalMs: number, steps: readonly CompiledStep[]): Promise<void> {
    // Start at a random point of the first interval so users do not fire in waves.
    let due = performance.now() + Math.random() * intervalMs;
    for (;;) {
      await this.#wait('sleep', Math.max(0, due - performance.now()));
      if (this.#stopping) throw stopped;
      this.#iteration += 1;
      await this.#steps(steps);
      due += intervalMs;
    }
  }

  /**
   * Connects. The handshake slot and the turn's budget are taken first,
   * synchronously when free (no `await` between the check and the count);
   * connect latency starts when the attempt does, after any wait for them.
   */
  async #connect(step: Extract<CompiledStep, { kind: 'connect' }>): Promise<void> {
    const context = this.#context;
    const plan = context.plan;
    const url = step.url === undefined ? plan.target : new URL(renderTemplate(step.url, false, this), plan.target).toString();
    const auth = step.auth === undefined ? undefined : renderTemplate(step.auth, true, this);
    this.#disconnect();
    if (!context.gate.tryAdmit(this.#holdsSlot)) await this.#queueForSlot();
    this.#holdsSlot = true;
    let session: Session;
    let started: number;
    try {
      const check = checkTarget(context.targetPolicy, url);
      if (check !== undefined) await check;
      if (this.#stopping) throw stopped;
      // This agent's own addresses (its part of the scenario's list, or spear agent --source-addresses), by local slot.
      session = context.sessions.create(this, sourceAddressOf(plan.connection.sourceAddresses, this.slot));
      started = performance.now();
      this.#opening = session;
      context.gate.started();
      await session.open(url, auth);
    } catch (error) {
      if (error instanceof FlowEnd || this.#opening === undefined) throw error;
      context.sessionRecorder.counters.failed += 1;
      // Cut by the end of the run rather than refused by the server: say so.
      context.recorder.failure(this.#stopping ? new ExchangeError('SPEAR_RUN_ENDED', 'the run ended before this user connected') : error);
      throw counted;
    } finally {
      this.#opening = undefined;
      this.#releaseSlot();
    }
    if (this.#stopping) {
      session.close();
      throw stopped;
    }
    this.#session = session;
    // Like socket.io-client: a connection that opened resets the backoff. Reconnects: opens by a retry of the flow.
    this.#attempt = 0;
    context.sessionRecorder.connected(Math.round((performance.now() - started) * 1000), this.#retrying);
    context.gauges.connected += 1;
    if (!this.#connectedBefore) {
      this.#connectedBefore = true;
      context.firstConnect();
    }
  }

  /** Waits in the gate's queue (the cap or this turn's budget is spent); the wait is spear's, recorded as queue time. */
  async #queueForSlot(): Promise<void> {
    const since = performance.now();
    const admitted = await this.#context.gate.admit(this.#holdsSlot);
    if (!admitted) throw stopped;
    this.#holdsSlot = true;
    this.#context.recorder.queued(Math.round((performance.now() - since) * 1000));
    if (this.#stopping) {
      this.#releaseSlot();
      throw stopped;
    }
  }

  /** Gives the handshake slot back, once. */
  #releaseSlot(): void {
    if (!this.#holdsSlot) return;
    this.#holdsSlot = false;
    this.#context.gate.release();
  }

  async #http(step: Extract<CompiledStep, { kind: 'http' }>): Promise<void> {
    const { failed, json } = await httpStep(this.#context, step, this);
    // Counted already; `onFail: continue` goes on to the next step (without this step's captures).
    if (failed && step.check?.continueOnFail === true) return;
    if (failed) throw counted;
    if (step.capture.length > 0) this.#capture(step.capture, json);
  }

  #capture(capture: readonly (readonly [string, string])[], value: unknown): void {
    for (const [name, path] of capture) {
      const found = valueAt(value, path);
      if (found === undefined) throw new ExchangeError('SPEAR_CAPTURE_MISSING', `nothing at ${path} to capture as ${name}`);
      (this.#captures ??= new Map()).set(name, found);
    }
  }

  /**
   * Offers a message (live, or from the inbox) to the waiting expect; true
   * when the expect took it or failed on it. `at`: when it arrived (-1: now).
   */
  #offer(expectation: Expectation, event: string, frame: Buffer, payloadStart: number, at: number): boolean {
    const verdict = judge(expectation, this.#context.plan.protocol === 'socketio', event, frame, payloadStart);
    if (verdict === undefined) return false;
    if (verdict instanceof ExchangeError) {
      this.#settle(undefined, verdict);
      return true;
    }
    try {
      this.#capture(expectation.step.capture, verdict.value);
    } catch (error) {
      this.#settle(undefined, error);
      return true;
    }
    // A reply answers the last send once; a later expect (a server push) has none to time, and
    // a message from the inbox that came before the send is not its answer: the send stays untimed.
    const arrived = at < 0 ? performance.now() : at;
    if (this.#lastSentAt > 0 && arrived >= this.#lastSentAt) this.#context.sessionRecorder.replied(Math.round((arrived - this.#lastSentAt) * 1000));
    this.#lastSentAt = 0;
    this.#settle(verdict.value, undefined);
    return true;
  }

  #wait(kind: WaitKind, timeoutMs: number, expect?: Extract<CompiledStep, { kind: 'expect' }>, ackId = -1): Promise<unknown> {
    if (kind !== 'sleep' && this.#session === undefined) return Promise.reject(new ExchangeError('SPEAR_NOT_CONNECTED', `${kind} before connect`));
    const waiting = new Promise((resolve, reject) => {
      const timer = timeoutMs > 0 || kind === 'sleep'
        ? setTimeout(() => this.#timedOut(kind), timeoutMs)
        : undefined;
      this.#waiter = { kind, resolve, reject, timer, expectation: expect === undefined ? undefined : this.#expectation(expect), ackId };
    });
    const expectation = this.#waiter?.expectation;
    // A message that came before this step (between steps, or in the same read as the last answer) may be the one.
    if (expectation !== undefined) this.#inbox?.offer(performance.now(), (kept) => this.#offerKept(expectation, kept));
    return waiting;
  }

  /** The expect's match and contains for this user, templates rendered. */
  #expectation(step: Extract<CompiledStep, { kind: 'expect' }>): Expectation {
    const match = step.matchTemplate === undefined ? step.step.match : JSON.parse(renderTemplate(step.matchTemplate, true, this)) as unknown;
    const contains = step.contains === undefined ? undefined : step.contains.constant ? step.containsBytes : renderTemplate(step.contains, false, this);
    return { step, match, contains };
  }

  #offerKept(expectation: Expectation, kept: KeptMessage): boolean {
    return this.#offer(expectation, kept.event, kept.payload, 0, kept.at);
  }

  #timedOut(kind: WaitKind): void {
    if (kind === 'sleep') {
      this.#settle(undefined, undefined);
      return;
    }
    const code = kind === 'ack' ? 'SPEAR_ACK_TIMEOUT' : 'SPEAR_EXPECT_TIMEOUT';
    this.#settle(undefined, new ExchangeError(code, `${kind} timed out`));
  }

  #settle(value: unknown, error: unknown): void {
    const waiter = this.#waiter;
    if (waiter === undefined) return;
    this.#waiter = undefined;
    if (waiter.timer !== undefined) clearTimeout(waiter.timer);
    if (error === undefined) waiter.resolve(value);
    else waiter.reject(error);
  }

  #openSession(): Session {
    const session = this.#session;
    if (session === undefined || !session.isOpen) throw new ExchangeError('SPEAR_NOT_CONNECTED', 'a send step before connect');
    return session;
  }

  /** The connection is gone (either side): leave the group, drop the gauges. */
  #lost(): void {
    if (this.#session === undefined) return;
    this.#session = undefined;
    this.#inbox = undefined;
    this.#context.gauges.connected -= 1;
    if (this.joinedAtUs !== 0) {
      this.#context.tracker.left(this);
      this.#context.gauges.joined -= 1;
    }
  }

  #disconnect(): void {
    const session = this.#session;
    this.#lost();
    session?.close();
  }

  /** A template variable's value for this user (VariableSource). */
  variable(name: string): unknown {
    if (name === 'stamp') return this.#context.tracker.stamp(this);
    if (name === 'iteration') return this.#iteration;
    return userVariable(name, this.index, this.group, this.#captures, this.#context);
  }
}

