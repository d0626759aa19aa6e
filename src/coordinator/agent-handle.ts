import { AgentError, PreflightError, SpearError, ExitCode, WireError } from '../errors.js';
import { connectionsOf, type AgentPlan } from '../scenarios/plan.js';
import { wireVersion, type AgentMessage, type CoordinatorMessage, type IntervalMessage, type ReadyMessage } from '../wire/messages.js';
import type { Transport } from '../wire/transport.js';
import type { AgentStatus } from '../report/result.js';
import { hostClockUs } from '../sessions/clock.js';
import { startLimits } from '../agents/start-deadline.js';

export type AgentLink = Transport<CoordinatorMessage, AgentMessage>;

/** What a handle reports to the coordinator while the run goes on. */
export interface AgentHandleEvents {
  interval(message: IntervalMessage): void;
  /** A heartbeat arrived while running (`lateMs` is up to date). */
  heartbeat?(handle: AgentHandle): void;
  /** The agent finished (done), or was lost or failed; called once. */
  ended(handle: AgentHandle): void;
}

type Phase = 'connecting' | 'ready' | 'planned' | 'running' | 'ended';

/** The coordinator's estimate of an agent's clock: agent minus coordinator, and its error bound (half the best round trip). */
export interface ClockEstimate {
  readonly offsetUs: number;
  readonly uncertaintyUs: number;
}

/** A ping the agent has not answered within this long is skipped. */
const pingTimeoutMs = 1000;

/**
 * The coordinator's view of one agent: its phase, the last time it spoke,
 * and how it ended. Turns the agent's message stream into awaited steps
 * (ready, planned) and events (interval, ended).
 */
export class AgentHandle {
  readonly id: number;
  readonly label: string;
  pid: number | null = null;
  /** The agent's host name, from its ready message. */
  host: string | undefined;
  connections = 0;
  status: AgentStatus = 'ok';
  reason: string | undefined;
  lastHeardMs = Date.now();
  /** How far the agent's load thread is behind its interval reports now (heartbeats say), ms; 0 when on time. */
  lateMs = 0;
  /** The most `lateMs` was during the run. */
  lateMsMax = 0;
  #intervalMs = 1000;
  /** After the run's end, closing tens of thousands of sockets may hold reports back: spear's own shutdown, not load it measured. */
  #lateCountsUntilMs = Number.POSITIVE_INFINITY;
  readonly #link: AgentLink;
  readonly #events: AgentHandleEvents;
  #phase: Phase = 'connecting';
  #waiter: { until: Phase; resolve: () => void; reject: (error: Error) => void } | undefined;
  #ready: ReadyMessage | undefined;
  #pingId = 0;
  #pong: { id: number; resolve: (sample: { t2: number; t3: number; t4: number }) => void } | undefined;
  clock: ClockEstimate | undefined;

  /** "local" for a process this coordinator started, else the address dialed. */
  readonly address: string;

  constructor(id: number, label: string, link: AgentLink, events: AgentHandleEvents, address = 'local') {
    this.id = id;
    this.address = address;
    this.label = label;
    this.#link = link;
    this.#events = events;
    link.onMessage((message) => this.#receive(message));
    link.onClose((reason) => this.#end('lost', `${label}: connection to the agent closed (${reason})`));
  }

  get ended(): boolean {
    return this.#phase === 'ended';
  }

  get running(): boolean {
    return this.#phase === 'running';
  }

  /** Waits for the agent's hello and checks its wire version. */
  async ready(timeoutMs: number): Promise<ReadyMessage> {
    await this.#waitFor('ready', timeoutMs, 'did not say ready');
    const ready = this.#ready!;
    if (ready.wireVersion !== wireVersion) {
      throw new AgentError(`${this.label} speaks wire version ${ready.wireVersion} (spear ${ready.spearVersion}), this coordinator ${wireVersion}: run the same spear version on both`);
    }
    return ready;
  }

  /**
   * Sends the agent its slice and waits until it accepted it (preflight
   * passed and its load thread built the run). Slow is not lost: while the
   * agent's heartbeats arrive (every second, from its control thread) the
   * wait goes on, up to the agent's own bound on starting its load thread
   * plus `silentMs`; it fails once the agent is silent for `silentMs`.
   */
  async plan(plan: AgentPlan, silentMs: number): Promise<void> {
    this.connections = connectionsOf(plan);
    this.#intervalMs = plan.intervalMs;
    this.lastHeardMs = Date.now();
    this.#link.send({ type: 'plan', wireVersion, plan });
    await this.#waitFor('planned', silentMs, 'did not accept its plan', startLimits.wallCapMs + silentMs);
  }

  /**
   * Estimates the agent's clock offset NTP-style from `samples` sequential
   * ping exchanges: offset = ((t2 − t1) + (t3 − t4)) / 2 from the sample
   * with the smallest round trip, whose half bounds the error. Sends the
   * estimate to the agent (it stamps broadcasts in the coordinator's clock).
   */
  async syncClock(samples: number): Promise<ClockEstimate | undefined> {
    let best: ClockEstimate | undefined;
    let bestRtt = Number.POSITIVE_INFINITY;
    for (let sample = 0; sample < samples && !this.ended; sample += 1) {
      const t1 = hostClockUs();
      const reply = await this.#ping();
      if (reply === undefined) continue;
      const rtt = reply.t4 - t1 - (reply.t3 - reply.t2);
      if (rtt < bestRtt) {
        bestRtt = rtt;
        best = { offsetUs: Math.round((reply.t2 - t1 + (reply.t3 - reply.t4)) / 2), uncertaintyUs: Math.max(1, Math.ceil(rtt / 2)) };
      }
    }
    if (best === undefined || this.ended) return undefined;
    // Keep the better of the old and new estimates' bounds only when the new one is much worse (a busy moment).
    if (this.clock === undefined || best.uncertaintyUs <= 4 * this.clock.uncertaintyUs) this.clock = best;
    this.#link.send({ type: 'clock', offsetUs: this.clock.offsetUs, uncertaintyUs: this.clock.uncertaintyUs });
    return this.clock;
  }

  #ping(): Promise<{ t2: number; t3: number; t4: number } | undefined> {
    const id = ++this.#pingId;
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        this.#pong = undefined;
        resolve(undefined);
      }, pingTimeoutMs);
      this.#pong = {
        id,
        resolve: (sample) => {
          clearTimeout(timer);
          resolve(sample);
        },
      };
      this.#link.send({ type: 'ping', id });
    });
  }

  /** Starts the agent's load at `atMs`; lateness counts against it until the run's end (`durationMs` later) plus one interval. */
  start(atMs: number, durationMs: number): void {
    this.#lateCountsUntilMs = atMs + durationMs + this.#intervalMs;
    this.#phase = 'running';
    this.lastHeardMs = Date.now();
    this.#link.send({ type: 'start', atMs });
  }

  stop(): void {
    if (!this.ended) this.#link.send({ type: 'stop' });
  }

  /** Marks the agent lost (silent too long) and lets go of it. */
  lose(reason: string): void {
    this.#end('lost', reason);
    void this.release();
  }

  /** Set by whoever started the agent process: makes sure it is gone after `release` (local agents). */
  afterRelease: (() => Promise<void>) | undefined;

  /** Lets go of the agent after the run; resolves once a local agent process has exited (bounded). */
  release(): Promise<void> {
    if (this.#released === undefined) {
      this.#link.close();
      this.#released = this.afterRelease?.() ?? Promise.resolve();
    }
    return this.#released;
  }

  #released: Promise<void> | undefined;

  #receive(message: AgentMessage): void {
    this.lastHeardMs = Date.now();
    switch (message.type) {
      case 'ready':
        this.#ready = message;
        this.pid = message.pid;
        this.host = message.host;
        this.#advance('ready');
        return;
      case 'planned':
        this.#advance('planned');
        return;
      case 'interval':
        if (this.#phase === 'running') {
          this.lateMs = 0;
          this.#interval(message);
        }
        return;
      case 'done':
        this.#end('ok', undefined);
        return;
      case 'failed':
        this.#end('failed', `${this.label}: ${message.message}`, failureError(message.code, message.message));
        return;
      case 'heartbeat':
        if (this.#phase === 'running') {
          // One interval of silence is normal (the next report is due at its end); beyond it the load thread is behind.
          this.lateMs = Math.max(0, message.loadSilentMs - this.#intervalMs);
          if (Date.now() <= this.#lateCountsUntilMs) this.lateMsMax = Math.max(this.lateMsMax, this.lateMs);
          this.#events.heartbeat?.(this);
        }
        return;
      case 'pong': {
        const t4 = hostClockUs();
        const pong = this.#pong;
        if (pong?.id !== message.id) return;
        this.#pong = undefined;
        pong.resolve({ t2: message.receivedUs, t3: message.sentUs, t4 });
        return;
      }
    }
  }

  /**
   * A report whose contents cannot be merged (a malformed histogram: the
   * merge throws WireError having merged none of it) fails its agent, as a
   * message that does not parse would: the run goes on without it.
   */
  #interval(message: IntervalMessage): void {
    try {
      this.#events.interval(message);
    } catch (error) {
      if (!(error instanceof WireError)) throw error;
      this.stop();
      this.#end('failed', `${this.label}: invalid interval report: ${error.message}`, error);
      void this.release();
    }
  }

  #advance(phase: Phase): void {
    if (this.#phase === 'ended') return;
    this.#phase = phase;
    if (this.#waiter?.until === phase) {
      const waiter = this.#waiter;
      this.#waiter = undefined;
      waiter.resolve();
    }
  }

  #end(status: AgentStatus, reason: string | undefined, error?: SpearError): void {
    if (this.#phase === 'ended') return;
    this.#phase = 'ended';
    this.status = status;
    this.reason = reason;
    const waiter = this.#waiter;
    this.#waiter = undefined;
    waiter?.reject(error ?? new AgentError(reason ?? `${this.label} ended`));
    this.#events.ended(this);
  }

  /**
   * Waits for the agent to reach `until`: at most `timeoutMs`, or, given
   * `capMs`, until it is silent for `timeoutMs` (nothing heard) or `capMs` passed.
   */
  #waitFor(until: Phase, timeoutMs: number, what: string, capMs?: number): Promise<void> {
    if (this.#phase === until) return Promise.resolve();
    if (this.#phase === 'ended') return Promise.reject(new AgentError(this.reason ?? `${this.label} ended`));
    return new Promise((resolve, reject) => {
      const startedMs = Date.now();
      const expire = (problem: string): void => {
        clearTimeout(timer);
        this.#waiter = undefined;
        reject(new AgentError(`${this.label} ${problem}`));
      };
      const check = (): void => {
        const now = Date.now();
        if (capMs === undefined || now - startedMs >= capMs) expire(`${what} within ${Math.round((capMs ?? timeoutMs) / 1000)}s`);
        else if (now - this.lastHeardMs >= timeoutMs) expire(`${what}: silent for ${Math.round(timeoutMs / 1000)}s`);
        else timer = setTimeout(check, Math.min(timeoutMs - (now - this.lastHeardMs), capMs - (now - startedMs)));
      };
      let timer = setTimeout(check, timeoutMs);
      this.#waiter = {
        until,
        resolve: () => {
          clearTimeout(timer);
          resolve();
        },
        reject: (error) => {
          clearTimeout(timer);
          reject(error);
        },
      };
    });
  }
}

function failureError(code: string, message: string): SpearError {
  if (code === 'E_PREFLIGHT') return new PreflightError(message);
  return new SpearError(code, message, ExitCode.agent);
}
