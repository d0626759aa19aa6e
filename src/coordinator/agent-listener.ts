import { AgentError, ExitCode, SpearError } from '../errors.js';
import type { AgentMessage, CoordinatorMessage } from '../wire/messages.js';
import { parseAgentMessage } from '../wire/parse.js';
import { listenForPeers, type PeerServer } from '../wire/peer-server.js';
import { WebSocketTransport } from '../wire/web-socket-transport.js';
import { JoinedAgent } from './joined-agent.js';

/** Largest message an agent may send (an interval report with its encoded histograms), as when dialed. */
const maxAgentMessageBytes = 256 * 1024 * 1024;
/** A joining agent says ready at once; one that has not within this long is dropped. */
const readyTimeoutMs = 15_000;

export interface AgentListenerOptions {
  readonly host: string;
  readonly port: number;
  /** Every joining agent must present it; undefined only on loopback. */
  readonly token: string | undefined;
  /** PEM certificate and key: serve wss://. */
  readonly tls?: { readonly cert: string; readonly key: string } | undefined;
  /** One line per event worth telling (listening, joined, left, refused); the same refusal from one host is told once. */
  readonly log?: ((line: string) => void) | undefined;
}

/**
 * `spear run --listen`: the coordinator's end of dial-in agents (`spear
 * agent --join`). Accepts agents that present the token and speak this
 * wire version (listenForPeers: the same checks and caps as a listening
 * agent), counts those that said ready, and hands the first `expected` of
 * them to the run. From then on it is busy: agents that come later are
 * refused politely (HTTP 409, "join the next run") and dial again later.
 */
export class AgentListener {
  #server: PeerServer | undefined;
  readonly #log: (line: string) => void;
  /** Connected, not ready yet. */
  readonly #joining = new Set<JoinedAgent>();
  /** Ready, in the order they said so. */
  #joined: JoinedAgent[] = [];
  /** Set once the run has its agents: the refusal newcomers get. */
  #busy: string | undefined;
  /** The last refusal per host while gathering, for the error when too few joined. */
  readonly #refusals = new Map<string, string>();
  #changed: () => void = () => undefined;
  /** Ends a gather still waiting (the listener closes). */
  #abandon: () => void = () => undefined;

  private constructor(log: (line: string) => void) {
    this.#log = log;
  }

  /** Starts listening (UsageError when the address cannot be had, or is off loopback without a token). */
  static async open(options: AgentListenerOptions): Promise<AgentListener> {
    const listener = new AgentListener(options.log ?? ((): void => undefined));
    listener.#server = await listenForPeers({
      self: 'coordinator',
      host: options.host,
      port: options.port,
      token: options.token,
      tls: options.tls,
      maxPayload: maxAgentMessageBytes,
      log: listener.#log,
      admit: () => listener.#busy,
      refused: (from, message) => listener.#refused(from, message),
      connected: (socket, from) => {
        const link = new WebSocketTransport<CoordinatorMessage, AgentMessage>(socket, parseAgentMessage);
        listener.#connected(new JoinedAgent(link, from, { ready: (agent) => listener.#ready(agent), gone: (agent, reason) => listener.#gone(agent, reason) }));
      },
    });
    return listener;
  }

  /** ws://HOST:PORT (wss:// with TLS) where agents join. */
  get url(): string {
    return this.#server?.url ?? '';
  }

  /**
   * Resolves with `expected` agents once that many have joined and said
   * ready; from then on newcomers are refused as busy. Rejects with an
   * AgentError naming how many joined, and from where, after `waitMs`;
   * with an interruption (exit 130) when `stop` aborts. Call once.
   */
  gather(expected: number, waitMs: number, stop?: AbortSignal): Promise<JoinedAgent[]> {
    const dial = this.url.replace(/\/\/(0\.0\.0\.0|\[::\])(?=:)/, '//THIS-HOST');
    this.#log(`waiting up to ${seconds(waitMs)} for ${expected} agent${expected === 1 ? '' : 's'} to join at ${this.url} (spear agent --join ${dial})`);
    return new Promise((resolve, reject) => {
      const finish = (): void => {
        clearTimeout(timer);
        stop?.removeEventListener('abort', onStop);
        this.#changed = () => undefined;
        this.#abandon = () => undefined;
      };
      const onStop = (): void => {
        finish();
        reject(new SpearError('E_INTERRUPTED', `interrupted while waiting for agents to join (${this.#joined.length} of ${expected} joined)`, ExitCode.interrupted));
      };
      const timer = setTimeout(() => {
        finish();
        reject(new AgentError(this.#shortfall(expected, waitMs)));
        // setTimeout fires at once past 2^31 ms: a longer wait is as good as forever.
      }, Math.min(waitMs, 2 ** 31 - 1));
      stop?.addEventListener('abort', onStop, { once: true });
      this.#abandon = () => {
        finish();
        reject(new AgentError(`stopped listening for agents (${this.#joined.length} of ${expected} joined)`));
      };
      this.#changed = () => {
        if (this.#joined.length < expected) return;
        finish();
        resolve(this.#seal(expected));
      };
      this.#changed();
    });
  }

  /** Stops listening; agents no run took are let go (they dial again, for the next coordinator). */
  close(): Promise<void> {
    this.#busy ??= 'this coordinator is shutting down: join the next run';
    this.#abandon();
    for (const agent of [...this.#joining, ...this.#joined]) agent.close();
    this.#joining.clear();
    this.#joined = [];
    return this.#server?.close() ?? Promise.resolve();
  }

  #connected(agent: JoinedAgent): void {
    if (this.#busy !== undefined) {
      // Admitted just before the run took its agents: it will be refused as busy when it dials again.
      agent.close();
      return;
    }
    this.#joining.add(agent);
    setTimeout(() => {
      if (this.#joining.has(agent)) {
        this.#log(`agent ${agent.address} did not say ready within ${seconds(readyTimeoutMs)}: dropped`);
        agent.close();
      }
    }, readyTimeoutMs).unref();
  }

  #ready(agent: JoinedAgent): void {
    if (!this.#joining.delete(agent)) return;
    this.#joined.push(agent);
    this.#refusals.delete(agent.host);
    const ready = agent.ready!;
    this.#log(`agent joined from ${agent.address} (host ${ready.host ?? '?'}, pid ${ready.pid}): ${this.#joined.length} joined`);
    this.#changed();
  }

  #gone(agent: JoinedAgent, reason: string): void {
    // After the seal, a taken agent's close is its handle's business.
    if (this.#busy !== undefined) return;
    const wasJoined = this.#joined.includes(agent);
    this.#joining.delete(agent);
    this.#joined = this.#joined.filter((each) => each !== agent);
    if (wasJoined) this.#log(`agent ${agent.address} left before the run (${reason}): ${this.#joined.length} joined`);
  }

  #refused(from: string, message: string): void {
    const host = from.replace(/:[^:]*$/, '').replace(/^\[(.*)\]$/, '$1');
    if (this.#busy === undefined) {
      if (this.#refusals.get(host) !== message) this.#log(`refused agent ${from}: ${message}`);
      this.#refusals.set(host, message);
    }
  }

  #seal(expected: number): JoinedAgent[] {
    this.#busy = `busy: this coordinator's run has started with the ${expected} agent${expected === 1 ? '' : 's'} it expected: join the next run`;
    for (const agent of this.#joining) agent.close();
    this.#joining.clear();
    const taken = this.#joined;
    this.#joined = [];
    return taken;
  }

  /** "2 of 3 agents joined within 60s (127.0.0.2, 127.0.0.3): ...", and what was refused meanwhile. */
  #shortfall(expected: number, waitMs: number): string {
    const hosts = countedHosts(this.#joined.map((agent) => agent.host));
    const byMessage = new Map<string, string[]>();
    for (const [host, message] of this.#refusals) byMessage.set(message, [...(byMessage.get(message) ?? []), host]);
    const refusals = [...byMessage].map(([message, hosts]) => `${countedHosts(hosts)}: ${message}`);
    return `${this.#joined.length} of ${expected} agents joined within ${seconds(waitMs)}${hosts === '' ? '' : ` (${hosts})`}: start the missing agents or lower --expect-agents${refusals.length === 0 ? '' : ` (refused meanwhile: ${refusals.join('; ')})`}`;
  }
}

/** "10.0.0.5 ×2, 10.0.0.6": each host once, sorted, with its count when above one. */
function countedHosts(hosts: readonly string[]): string {
  const counts = new Map<string, number>();
  for (const host of [...hosts].sort((a, b) => a.localeCompare(b, 'en', { numeric: true }))) counts.set(host, (counts.get(host) ?? 0) + 1);
  return [...counts].map(([host, count]) => (count === 1 ? host : `${host} ×${count}`)).join(', ');
}

function seconds(ms: number): string {
  return `${Math.round(ms / 100) / 10}s`;
}
