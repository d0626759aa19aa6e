import type { AgentMessage, CoordinatorMessage, ReadyMessage } from '../wire/messages.js';
import { AgentHandle, type AgentHandleEvents, type AgentLink } from './agent-handle.js';

/** What the listener hears of an agent while it waits for its run. Listeners must not block. */
export interface JoinedAgentEvents {
  /** The agent said ready: it counts as joined. Called at most once. */
  ready(agent: JoinedAgent): void;
  /** Its link closed (before or after it said ready). Called at most once. */
  gone(agent: JoinedAgent, reason: string): void;
}

/**
 * An agent that dialed in (`spear agent --join`), held by the coordinator
 * until a run takes it: the link an AgentHandle then wraps, as it wraps a
 * dialed agent's.
 *
 * Subtleness ahead: an agent says `ready` the moment it connects, long
 * before a run wants it, and the handle that waits for that message is
 * built only then. So the ready message is kept here and handed to the
 * first message listener, synchronously, as if it had just arrived; a
 * close that came in between is replayed to close listeners. Heartbeats
 * sent while waiting say nothing about a run and are dropped.
 */
export class JoinedAgent implements AgentLink {
  /** The agent's "address:port", as the coordinator saw the connection. */
  readonly address: string;
  readonly #link: AgentLink;
  readonly #events: JoinedAgentEvents;
  #ready: ReadyMessage | undefined;
  #listener: ((message: AgentMessage) => void) | undefined;
  readonly #closeListeners: ((reason: string) => void)[] = [];
  #closed: string | undefined;

  constructor(link: AgentLink, address: string, events: JoinedAgentEvents) {
    this.address = address;
    this.#link = link;
    this.#events = events;
    link.onMessage((message) => {
      if (this.#listener !== undefined) {
        this.#listener(message);
      } else if (message.type === 'ready' && this.#ready === undefined) {
        this.#ready = message;
        events.ready(this);
      }
    });
    link.onClose((reason) => {
      this.#closed = reason;
      for (const listener of this.#closeListeners) listener(reason);
      this.#events.gone(this, reason);
    });
  }

  /** The agent's ready message, once it said it. */
  get ready(): ReadyMessage | undefined {
    return this.#ready;
  }

  /** The address without the port: the host it joined from. */
  get host(): string {
    return this.address.replace(/:[^:]*$/, '').replace(/^\[(.*)\]$/, '$1');
  }

  /** The run takes this agent as agent `id`: its handle, over this link, its address in the result. */
  adopt(id: number, events: AgentHandleEvents): AgentHandle {
    return new AgentHandle(id, `agent ${id} (joined from ${this.address})`, this, events, this.address);
  }

  send(message: CoordinatorMessage): void {
    this.#link.send(message);
  }

  /** The first listener gets the kept ready message at once; one listener only (the handle's). */
  onMessage(listener: (message: AgentMessage) => void): void {
    this.#listener = listener;
    if (this.#ready !== undefined) listener(this.#ready);
  }

  /** A link that closed already is reported on the next microtask (after the taker finished wiring itself up). */
  onClose(listener: (reason: string) => void): void {
    this.#closeListeners.push(listener);
    const closed = this.#closed;
    if (closed !== undefined) queueMicrotask(() => listener(closed));
  }

  close(): void {
    this.#link.close();
  }
}
