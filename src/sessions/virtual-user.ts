import { performance } from 'node:perf_hooks';
import type { Dispatcher } from 'undici';
import { errorKeyAs } from '../metrics/error-kind.js';
import type { Recorder } from '../metrics/recorder.js';
import type { SessionRecorder } from '../metrics/session-recorder.js';
import { ExchangeError } from '../protocols/exchange-error.js';
import { frameArguments, type SocketFrame } from '../protocols/socketio/packets.js';
import type { Session, SessionFactory, SessionListener } from '../protocols/session.js';
import type { SessionPlan } from '../scenarios/plan.js';
import type { TargetPolicy } from '../agents/target-policy.js';
import type { BroadcastTracker, Member } from './broadcast-tracker.js';
import type { CoordinatorClock } from './clock.js';
import { matches, type CompiledStep } from './compiled-flow.js';
import type { ConnectGate } from './connect-gate.js';
import { exchange } from './http-exchange.js';
import { renderTemplate, valueAt, type VariableSource } from './template.js';

/** What every user of an agent shares. */
export interface FleetContext {
  readonly plan: SessionPlan;
  readonly flow: readonly CompiledStep[];
  readonly clock: CoordinatorClock;
  readonly sessions: SessionFactory;
  readonly recorder: Recorder;
  readonly sessionRecorder: SessionRecorder;
  readonly tracker: BroadcastTracker;
  readonly http: Dispatcher;
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

/** Shared by every user: payloads are decoded synchronously, one at a time. */
const scratch: SocketFrame = { type: 0, namespace: '/', ackId: -1, event: '', payloadStart: 0 };

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
  readonly expect: Extract<CompiledStep, { kind: 'expect' }> | undefined;
  /** The expect's match and contains for this user (templates rendered). */
  readonly match: unknown;
  readonly contains: Buffer | string | undefined;
  readonly ackId: number;
}

/**
 * One virtual user: runs its flow once, then holds its connection until the
 * run ends; on a disconnect or a failed step it starts the flow again under
 * the reconnect policy (backoff with full jitter), or gives up. Everything
 * a user waits for (a reply, an ack, a sleep, the hold) is one waiter, so a
 * disconnect or the end of the run unwinds it at once.
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
  #iteration = 0;
  #attempt = 0;
  #connectedBefore = false;
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
    this.slot = Math.floor(index / context.plan.agentCount);
    this.#context = context;
    this.#holdsSlot = reserved;
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

  /** Closes the connection for good. */
  close(): void {
    this.#stopping = true;
    if (this.#waiter !== undefined) this.#settle(undefined, stopped);
    this.#opening?.close();
    this.#disconnect();
    this.#releaseSlot();
  }

  message(event: string, frame: Buffer, payloadStart: number, isBinary: boolean): void {
    const context = this.#context;
    context.gauges.received += 1;
    context.sessionRecorder.counters.messagesReceived += 1;
    const broadcastEvent = context.plan.broadcast.event;
    if (broadcastEvent === undefined || event === broadcastEvent) context.tracker.receive(frame, payloadStart, this);
    const waiter = this.#waiter;
    if (waiter?.kind === 'expect') this.#offer(waiter, event, frame, payloadStart, isBinary);
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
    context.recorder.failureKey(errorKeyAs('disconnect', error));
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
      const check = this.#checkTarget(url);
      if (check !== undefined) await check;
      if (this.#stopping) throw stopped;
      const sources = plan.connection.sourceAddresses;
      session = context.sessions.create(this, sources.length === 0 ? undefined : sources[this.index % sources.length]);
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
    // Like socket.io-client: a connection that opened resets the backoff; reconnects count every open after the first.
    this.#attempt = 0;
    context.sessionRecorder.connected(Math.round((performance.now() - started) * 1000), this.#connectedBefore);
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
    const context = this.#context;
    const url = new URL(renderTemplate(step.url, false, this), context.plan.target);
    const check = this.#checkTarget(url.toString());
    if (check !== undefined) await check;
    const headers: Record<string, string> = {};
    for (const [name, template] of step.headers) headers[name] = renderTemplate(template, false, this);
    const body = step.body === undefined ? undefined : renderTemplate(step.body, step.bodyJson, this);
    const timeoutMs = context.plan.timeouts.requestMs;
    const outcome = await exchange(context.http, {
      origin: url.origin, path: `${url.pathname}${url.search}`, method: step.method as Dispatcher.HttpMethod, headers, body,
      headersTimeout: timeoutMs, bodyTimeout: timeoutMs,
    }, step.capture.length > 0);
    // Waiting for a pooled connection is spear's queue, not the server's latency.
    if (outcome.queuedUs >= 0) context.recorder.queued(outcome.queuedUs);
    context.recorder.response(outcome.status, outcome.bytes, outcome.latencyUs, outcome.latencyUs);
    if (outcome.status >= 400) throw counted;
    if (step.capture.length === 0) return;
    let parsed: unknown;
    try {
      parsed = JSON.parse(outcome.text ?? '');
    } catch {
      throw new ExchangeError('SPEAR_CAPTURE_MISSING', `${step.method} ${url.pathname} did not answer JSON`);
    }
    this.#capture(step.capture, parsed);
  }

  /** Refuses a target this agent may not load (--allow-target); undefined without a policy, so the common case does not yield. */
  #checkTarget(url: string): Promise<void> | undefined {
    const policy = this.#context.targetPolicy;
    if (policy === undefined) return undefined;
    const host = new URL(url).hostname;
    return policy.allows(host).then((allowed) => {
      if (!allowed) throw new ExchangeError('SPEAR_TARGET_NOT_ALLOWED', `this agent may not send load to ${host} (--allow-target)`);
    });
  }

  #capture(capture: readonly (readonly [string, string])[], value: unknown): void {
    for (const [name, path] of capture) {
      const found = valueAt(value, path);
      if (found === undefined) throw new ExchangeError('SPEAR_CAPTURE_MISSING', `nothing at ${path} to capture as ${name}`);
      (this.#captures ??= new Map()).set(name, found);
    }
  }

  #offer(waiter: Waiter, event: string, frame: Buffer, payloadStart: number, isBinary: boolean): void {
    const expect = waiter.expect!;
    const spec = expect.step;
    if (spec.event !== undefined && spec.event !== event) return;
    if (waiter.contains !== undefined && frame.indexOf(waiter.contains, payloadStart) < 0) return;
    let value: unknown;
    if (waiter.match !== undefined || expect.capture.length > 0) {
      value = this.#payload(event, frame, payloadStart, isBinary);
      if (waiter.match !== undefined && !matches(value, waiter.match)) {
        // A named Socket.IO event that does not match is an answer, and a wrong one;
        // a plain WebSocket message may just be someone else's traffic.
        if (spec.event !== undefined) {
          this.#settle(undefined, new ExchangeError('SPEAR_EXPECT_MISMATCH', `${event}: got ${JSON.stringify(value)?.slice(0, 200)}`));
        }
        return;
      }
      try {
        this.#capture(expect.capture, value);
      } catch (error) {
        this.#settle(undefined, error);
        return;
      }
    }
    // A reply answers the last send once; a later expect (a server push) has no send to time from.
    if (this.#lastSentAt > 0) this.#context.sessionRecorder.replied(Math.round((performance.now() - this.#lastSentAt) * 1000));
    this.#lastSentAt = 0;
    this.#settle(value, undefined);
  }

  /** The first argument of a Socket.IO event, or a WebSocket message parsed as JSON (its text if not JSON). */
  #payload(event: string, frame: Buffer, payloadStart: number, isBinary: boolean): unknown {
    if (event !== '' || this.#context.plan.protocol === 'socketio') {
      scratch.payloadStart = payloadStart;
      scratch.type = 0x32;
      return frameArguments(frame, scratch)?.[0];
    }
    const text = isBinary ? frame.toString('latin1') : frame.toString('utf8');
    try {
      return JSON.parse(text) as unknown;
    } catch {
      return text;
    }
  }

  #wait(kind: WaitKind, timeoutMs: number, expect?: Extract<CompiledStep, { kind: 'expect' }>, ackId = -1): Promise<unknown> {
    if (kind !== 'sleep' && this.#session === undefined) return Promise.reject(new ExchangeError('SPEAR_NOT_CONNECTED', `${kind} before connect`));
    return new Promise((resolve, reject) => {
      const timer = timeoutMs > 0 || kind === 'sleep'
        ? setTimeout(() => this.#timedOut(kind), timeoutMs)
        : undefined;
      const match = expect?.matchTemplate === undefined ? expect?.step.match : JSON.parse(renderTemplate(expect.matchTemplate, true, this)) as unknown;
      const contains = expect?.contains === undefined ? undefined : expect.contains.constant ? expect.containsBytes : renderTemplate(expect.contains, false, this);
      this.#waiter = { kind, resolve, reject, timer, expect, match, contains, ackId };
    });
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

  #feederValue(column: string): string | undefined {
    const rows = this.#context.plan.feeder?.rows;
    const position = this.#context.feederColumns.get(column);
    if (rows === undefined || position === undefined || rows.length === 0) return undefined;
    return rows[this.index % rows.length]?.[position];
  }

  /** A template variable's value for this user (VariableSource). */
  variable(name: string): unknown {
    switch (name) {
      case 'user':
        return this.index;
      case 'group':
        return this.group;
      case 'agent':
        return this.#context.plan.agentId;
      case 'iteration':
        return this.#iteration;
      case 'stamp':
        return this.#context.tracker.stamp(this);
      case 'random':
        return Math.random().toString(36).slice(2, 12);
      case 'time':
        return Date.now();
      default: {
        const dot = name.indexOf('.');
        if (name.startsWith('feeder.')) return this.#feederValue(name.slice(7));
        if (dot < 0) return this.#captures?.get(name);
        return valueAt(this.#captures?.get(name.slice(0, dot)), name.slice(dot + 1));
      }
    }
  }
}

