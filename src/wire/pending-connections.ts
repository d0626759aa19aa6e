import type { Socket } from 'node:net';

/** Connections waiting to authenticate, at most: in all, and from one address (so one stranger cannot lock others out). */
const maxPendingConnections = 256;
const maxPendingPerAddress = 16;
/** A connection must complete its upgrade this soon after it opened. */
const upgradeTimeoutMs = 5000;

/**
 * TCP connections that have not (yet) become a peer's WebSocket (a
 * coordinator's at an agent, an agent's at a coordinator): capped, and
 * closed when they do not upgrade in time, so idle or slow strangers cannot
 * hold the listener's descriptors (a run needs them). Not safe to share
 * between servers; every method is synchronous and cheap.
 *
 * Entries are keyed by the peer's address and port, not by socket object:
 * under TLS, 'connection' gives the raw TCP socket while 'upgrade' gives
 * the TLS socket wrapping it, and both name the same peer.
 */
export class PendingConnections {
  readonly #entries = new Map<string, { readonly socket: Socket; readonly timer: NodeJS.Timeout; readonly address: string }>();
  readonly #perAddress = new Map<string, number>();
  readonly #log: (line: string) => void;
  #refusing = false;

  constructor(log: (line: string) => void) {
    this.#log = log;
  }

  admit(socket: Socket): void {
    const address = socket.remoteAddress;
    // Already gone (reset before we saw it): nothing to hold.
    if (address === undefined) {
      socket.destroy();
      return;
    }
    const fromAddress = this.#perAddress.get(address) ?? 0;
    if (this.#entries.size >= maxPendingConnections || fromAddress >= maxPendingPerAddress) {
      if (!this.#refusing) this.#log(`too many connections waiting to authenticate (from ${address}: ${fromAddress}, in all: ${this.#entries.size}): closing new ones until they clear`);
      this.#refusing = true;
      socket.destroy();
      return;
    }
    this.#refusing = false;
    const key = peerOf(socket);
    this.#perAddress.set(address, fromAddress + 1);
    this.#entries.set(key, { socket, timer: setTimeout(() => socket.destroy(), upgradeTimeoutMs), address });
    socket.once('close', () => this.#release(key, socket));
  }

  /** The socket (or the TLS socket over it) became a peer's link: no longer a stranger's. */
  upgraded(socket: Socket): void {
    const key = peerOf(socket);
    const entry = this.#entries.get(key);
    if (entry !== undefined) this.#release(key, entry.socket);
  }

  close(): void {
    for (const entry of this.#entries.values()) entry.socket.destroy();
  }

  #release(key: string, socket: Socket): void {
    const entry = this.#entries.get(key);
    // A later connection from the same port may hold the key by now.
    if (entry === undefined || entry.socket !== socket) return;
    clearTimeout(entry.timer);
    this.#entries.delete(key);
    const left = (this.#perAddress.get(entry.address) ?? 1) - 1;
    if (left <= 0) this.#perAddress.delete(entry.address);
    else this.#perAddress.set(entry.address, left);
  }
}

/** "address:port" of the peer; stable for the life of the connection (Node caches it). */
function peerOf(socket: Socket): string {
  return `${socket.remoteAddress ?? '?'}:${socket.remotePort ?? '?'}`;
}
