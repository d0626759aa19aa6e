import { performance } from 'node:perf_hooks';
import { ExchangeError } from '../exchange-error.js';
import type { Session, SessionFactory, SessionListener, SessionOptions } from '../session.js';
import { WebSocketLink } from '../ws/web-socket-link.js';
import {
  EnginePacket, SocketPacket, connectErrorMessage, decodeSocketFrame, encodeConnect, encodeEvent, parseHandshake,
  type SocketFrame,
} from './packets.js';

const Phase = { Idle: 0, Opening: 1, Open: 2, Closed: 3 } as const;
type PhaseValue = (typeof Phase)[keyof typeof Phase];

/**
 * One decode target for every session: decoding and dispatch finish before
 * the next frame is read (single-threaded), so nothing per connection.
 */
const scratch: SocketFrame = { type: 0, namespace: '/', ackId: -1, event: '', payloadStart: 0 };

/** The heartbeat sweep visits every session this often. */
const sweepEveryMs = 500;

/**
 * A Socket.IO client over the websocket transport, framing by hand. With
 * Engine.IO 4 the server pings and this side answers at once; with
 * Engine.IO 3 this side pings every pingInterval. Both are driven by one
 * shared sweep per agent (`HeartbeatSweep`), never a timer per connection.
 */
export class SocketIoSession implements Session {
  readonly #listener: SessionListener;
  readonly #options: SessionOptions;
  readonly #sweep: HeartbeatSweep;
  readonly #localAddress: string | undefined;
  readonly #link: WebSocketLink;
  #phase: PhaseValue = Phase.Idle;
  /** From the Engine.IO handshake (numbers only: the sid is not needed over websocket). */
  #pingIntervalMs = Infinity;
  #pingTimeoutMs = Infinity;
  #authJson: string | undefined;
  #ready: ((error: unknown) => void) | undefined;
  /** performance.now() of the last packet heard (EIO4: ping; EIO3: pong). */
  lastHeardAt = 0;
  /** EIO3: when the next client ping is due. */
  nextPingAt = 0;

  constructor(listener: SessionListener, options: SessionOptions, sweep: HeartbeatSweep, localAddress: string | undefined) {
    this.#listener = listener;
    this.#localAddress = localAddress;
    this.#options = options;
    this.#sweep = sweep;
    this.#link = new WebSocketLink({ message: (data) => this.#received(data), closed: (error) => this.#ended(error) });
  }

  get isOpen(): boolean {
    return this.#phase === Phase.Open;
  }

  /** Heartbeat deadline: silence longer than this means the link is dead. */
  get deadAfterMs(): number {
    return this.#pingIntervalMs + this.#pingTimeoutMs;
  }

  get revision(): 3 | 4 {
    return this.#options.socketio.eio;
  }

  get pingIntervalMs(): number {
    return this.#pingIntervalMs;
  }

  async open(url: string, authJson: string | undefined): Promise<void> {
    this.#phase = Phase.Opening;
    this.#authJson = authJson;
    this.#pingIntervalMs = Infinity;
    this.#pingTimeoutMs = Infinity;
    const ready = new Promise<void>((resolve, reject) => {
      this.#ready = (error) => (error === undefined ? resolve() : reject(error));
    });
    // The handshake may fail while the upgrade itself fails too; then only the upgrade's error is awaited.
    ready.catch(() => undefined);
    try {
      await this.#link.open(handshakeUrl(url, this.#options), this.#options, this.#localAddress);
    } catch (error) {
      this.#phase = Phase.Closed;
      this.#ready = undefined;
      throw error;
    }
    const timer = setTimeout(() => this.#settle(new ExchangeError('SPEAR_CONNECT_TIMEOUT', `no Socket.IO handshake from ${url} within ${this.#options.connectTimeoutMs}ms`)), this.#options.connectTimeoutMs);
    try {
      await ready;
    } finally {
      clearTimeout(timer);
    }
  }

  emit(event: string, dataJson: string | undefined, ackId: number): void {
    this.#link.send(encodeEvent(this.#options.socketio.namespace, event, dataJson, ackId));
  }

  send(data: string | Buffer): void {
    this.#link.send(data);
  }

  close(): void {
    // A handshake in flight ends now, not at its timeout.
    this.#settle(new ExchangeError('SPEAR_SOCKET_CLOSED', 'closed during the Socket.IO handshake'));
    if (this.#phase === Phase.Open) this.#link.send(`41${this.#options.socketio.namespace === '/' ? '' : `${this.#options.socketio.namespace},`}`);
    this.#phase = Phase.Closed;
    this.#sweep.remove(this);
    this.#link.close();
  }

  /** Sends an Engine.IO 3 ping. Called by the sweep. */
  ping(): void {
    this.#link.send('2');
  }

  /** Drops a link whose heartbeats stopped. Called by the sweep. */
  expire(): void {
    this.#link.fail(new ExchangeError('SPEAR_PING_TIMEOUT', `no heartbeat for ${this.deadAfterMs}ms`));
  }

  #received(frame: Buffer): void {
    const type = frame[0];
    if (type === EnginePacket.message) {
      this.#socketPacket(frame);
    } else if (type === EnginePacket.ping) {
      this.lastHeardAt = performance.now();
      this.#link.send(frame.length === 1 ? '3' : `3${frame.toString('latin1', 1)}`);
    } else if (type === EnginePacket.pong) {
      this.lastHeardAt = performance.now();
    } else if (type === EnginePacket.open) {
      this.#opened(frame);
    } else if (type === EnginePacket.close) {
      this.#link.fail(new ExchangeError('SPEAR_SERVER_CLOSED', 'the server closed the Engine.IO session'));
    }
  }

  #opened(frame: Buffer): void {
    const handshake = parseHandshake(frame.toString('utf8'));
    if (handshake === undefined) {
      this.#settle(new ExchangeError('SPEAR_EIO_HANDSHAKE', `expected an Engine.IO open packet, got ${JSON.stringify(frame.toString('utf8', 0, 80))}`));
      return;
    }
    this.#pingIntervalMs = handshake.pingIntervalMs;
    this.#pingTimeoutMs = handshake.pingTimeoutMs;
    const now = performance.now();
    this.lastHeardAt = now;
    this.nextPingAt = now + handshake.pingIntervalMs;
    // EIO3 servers connect the default namespace unprompted; everything else asks.
    if (this.revision === 4 || this.#options.socketio.namespace !== '/') {
      this.#link.send(encodeConnect(this.#options.socketio.namespace, this.revision === 4 ? this.#authJson : undefined));
    }
  }

  #socketPacket(frame: Buffer): void {
    const packet = scratch;
    if (!decodeSocketFrame(frame, packet)) return;
    if (packet.namespace !== this.#options.socketio.namespace) return;
    switch (packet.type) {
      case SocketPacket.event:
      case SocketPacket.binaryEvent:
        this.#listener.message(packet.event, frame, packet.payloadStart, packet.type === SocketPacket.binaryEvent);
        return;
      case SocketPacket.ack:
      case SocketPacket.binaryAck:
        this.#listener.acked(packet.ackId, frame, packet.payloadStart);
        return;
      case SocketPacket.connect:
        if (this.#phase === Phase.Opening) {
          this.#phase = Phase.Open;
          this.#sweep.add(this);
          this.#settle(undefined);
        }
        return;
      case SocketPacket.connectError:
        this.#settle(new ExchangeError('SPEAR_CONNECT_ERROR', `the server refused the Socket.IO connect: ${connectErrorMessage(frame, packet)}`));
        return;
      case SocketPacket.disconnect:
        this.#link.fail(new ExchangeError('SPEAR_SERVER_CLOSED', 'the server disconnected the Socket.IO namespace'));
        return;
      default:
        return;
    }
  }

  #settle(error: unknown): void {
    const ready = this.#ready;
    if (ready === undefined) return;
    this.#ready = undefined;
    if (error !== undefined) {
      this.#phase = Phase.Closed;
      this.#link.close();
    }
    ready(error);
  }

  #ended(error: unknown): void {
    this.#sweep.remove(this);
    if (this.#ready !== undefined) {
      this.#settle(error);
      return;
    }
    if (this.#phase !== Phase.Open) return;
    this.#phase = Phase.Closed;
    this.#listener.closed(error);
  }
}

/** Handshake URLs by connect URL: users of one node share one string instead of building two each. */
const handshakeUrls = new Map<string, string>();
const handshakeUrlsKept = 4096;

/** `http://host:port/whatever?x=1` → `ws://host:port/socket.io/?EIO=4&transport=websocket&x=1`. */
function handshakeUrl(url: string, options: SessionOptions): string {
  const known = handshakeUrls.get(url);
  if (known !== undefined) return known;
  const built = buildHandshakeUrl(url, options);
  if (handshakeUrls.size < handshakeUrlsKept) handshakeUrls.set(url, built);
  return built;
}

function buildHandshakeUrl(url: string, options: SessionOptions): string {
  const parsed = new URL(url);
  parsed.protocol = parsed.protocol === 'https:' || parsed.protocol === 'wss:' ? 'wss:' : 'ws:';
  parsed.pathname = options.socketio.path;
  parsed.searchParams.set('EIO', String(options.socketio.eio));
  parsed.searchParams.set('transport', 'websocket');
  return parsed.toString();
}

/**
 * One timer for every Socket.IO session of an agent: answers the question
 * "who must ping now, who went silent" twice a second.
 */
export class HeartbeatSweep {
  readonly #sessions = new Set<SocketIoSession>();
  #timer: NodeJS.Timeout | undefined;
  #disposed = false;

  add(session: SocketIoSession): void {
    // A handshake that finishes after the run ended must not revive the timer.
    if (this.#disposed) {
      session.close();
      return;
    }
    this.#sessions.add(session);
    if (this.#timer === undefined) {
      this.#timer = setInterval(() => this.#sweep(), sweepEveryMs);
      // The agent lives by its coordinator link, never by this timer.
      this.#timer.unref();
    }
  }

  remove(session: SocketIoSession): void {
    this.#sessions.delete(session);
  }

  dispose(): void {
    this.#disposed = true;
    clearInterval(this.#timer);
    this.#timer = undefined;
    this.#sessions.clear();
  }

  #sweep(): void {
    const now = performance.now();
    for (const session of this.#sessions) {
      if (now - session.lastHeardAt > session.deadAfterMs) {
        session.expire();
      } else if (session.revision === 3 && now >= session.nextPingAt) {
        session.nextPingAt = now + session.pingIntervalMs;
        session.ping();
      }
    }
  }
}

/** Sessions of the `socketio` protocol, sharing one heartbeat sweep. */
export function socketIoSessions(options: SessionOptions): SessionFactory {
  const sweep = new HeartbeatSweep();
  return {
    create: (listener, localAddress) => new SocketIoSession(listener, options, sweep, localAddress),
    dispose: () => sweep.dispose(),
  };
}
