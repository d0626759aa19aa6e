import WebSocket from 'ws';
import { messageOf } from '../errors.js';
import type { Transport } from './transport.js';

/** Liveness: a peer that answers no ping for this long is gone (a cut cable sends no FIN). */
const pingEveryMs = 1000;
const silentAfterMs = 5000;

/**
 * Messages as JSON text frames over one WebSocket (remote agents). Each side
 * pings every second and drops the link after 5 s without a pong, so a lost
 * network is noticed as fast as a closed socket.
 */
export class WebSocketTransport<Outgoing, Incoming> implements Transport<Outgoing, Incoming> {
  readonly #socket: WebSocket;
  readonly #parse: (value: unknown) => Incoming;
  readonly #closeListeners: ((reason: string) => void)[] = [];
  readonly #pinger: NodeJS.Timeout;
  #lastPongMs = Date.now();
  /** When the pinger last ran: a late tick means this side stalled (its pongs may wait unread). */
  #lastTickMs = Date.now();
  #closed = false;

  constructor(socket: WebSocket, parse: (value: unknown) => Incoming) {
    this.#socket = socket;
    this.#parse = parse;
    socket.on('pong', () => {
      this.#lastPongMs = Date.now();
    });
    socket.on('close', (code, reason) => this.#finish(`the connection closed (${code}${reason.length > 0 ? ` ${reason.toString()}` : ''})`));
    socket.on('error', (error) => this.#finish(`connection error: ${error.message}`));
    this.#pinger = setInterval(() => {
      const now = Date.now();
      // Subtleness ahead: after this process's own stall (a busy loop, SIGSTOP), the peer's pongs are
      // still unread in the socket. Judge the peer only on time this side was awake to hear it.
      if (now - this.#lastTickMs > 2 * pingEveryMs) this.#lastPongMs = now;
      this.#lastTickMs = now;
      if (now - this.#lastPongMs > silentAfterMs) {
        this.#finish(`no answer to pings for ${silentAfterMs / 1000}s`);
        socket.terminate();
        return;
      }
      if (socket.readyState === WebSocket.OPEN) socket.ping();
    }, pingEveryMs);
  }

  send(message: Outgoing): void {
    if (this.#closed || this.#socket.readyState !== WebSocket.OPEN) return;
    this.#socket.send(JSON.stringify(message));
  }

  onMessage(listener: (message: Incoming) => void): void {
    this.#socket.on('message', (data: Buffer, isBinary: boolean) => {
      if (this.#closed) return;
      let message: Incoming;
      try {
        if (isBinary) throw new Error('binary frame');
        message = this.#parse(JSON.parse(data.toString('utf8')) as unknown);
      } catch (error) {
        this.#finish(`invalid message: ${messageOf(error)}`);
        this.#socket.close(1008, 'invalid message');
        return;
      }
      // Any message is a sign of life, as good as a pong.
      this.#lastPongMs = Date.now();
      listener(message);
    });
  }

  onClose(listener: (reason: string) => void): void {
    this.#closeListeners.push(listener);
  }

  close(): void {
    if (this.#closed) return;
    this.#socket.close(1000);
    setTimeout(() => this.#socket.terminate(), 1000).unref();
    this.#finish('closed');
  }

  #finish(reason: string): void {
    if (this.#closed) return;
    this.#closed = true;
    clearInterval(this.#pinger);
    for (const listener of this.#closeListeners) listener(reason);
  }
}
