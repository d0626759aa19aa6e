import { performance } from 'node:perf_hooks';
import { ExchangeError } from '../exchange-error.js';
import type { Session, SessionFactory, SessionListener, SessionOptions } from '../session.js';
import { withoutQuery } from '../ws/upgrade-refusal.js';
import { WebSocketLink } from '../ws/web-socket-link.js';
import { engineGarbage, engineRefusal } from './engine-refusal.js';
import { handshakeUrl } from './handshake-url.js';
import { Heartbeats, type Beating } from './heartbeats.js';
import {
  EnginePacket, SocketPacket, connectErrorMessage, decodeSocketFrame, encodeAck, encodeConnect, encodeEvent, namespacePrefix,
  parseHandshake, type SocketFrame,
} from './packets.js';

const Phase = { Idle: 0, Opening: 1, Open: 2, Closed: 3 } as const;
type PhaseValue = (typeof Phase)[keyof typeof Phase];

/**
 * One decode target for every session: decoding and dispatch finish before
 * the next frame is read (single-threaded), so nothing per connection.
 */
const scratch: SocketFrame = { type: 0, namespace: '/', ackId: -1, event: '', payloadStart: 0, attachments: 0 };

/** Events kept while the namespace connect is unanswered (socket.io-client keeps them all); more are dropped. */
const earlyEventsKept = 64;

/** A copy that owns its bytes: a frame from ws may be a view of a larger socket read. */
function ownCopy(frame: Buffer): Buffer {
  const copy = Buffer.allocUnsafeSlow(frame.length);
  frame.copy(copy);
  return copy;
}

/**
 * A Socket.IO client over the websocket transport, framing by hand. With
 * Engine.IO 4 the server pings and this side answers at once; with
 * Engine.IO 3 this side pings every pingInterval. Both run off the agent's
 * shared `Heartbeats`, never a timer per connection.
 *
 * Like socket.io-client, events that arrive before the namespace connect is
 * acknowledged (python-socketio emits from its connect handler before its
 * `40`) are kept, up to 64, and delivered right after the acknowledgement.
 * A binary event or ack (`45<n>-…`) is delivered once its n attachments (binary
 * frames; Engine.IO 3 prefixes each with a 0x04 byte) have arrived, as its
 * JSON part with the `{"_placeholder":true,"num":i}` objects in place; the
 * attachments themselves are counted off, never parsed. An event the server
 * sends with an ack id is acknowledged at once, with no arguments.
 */
export class SocketIoSession implements Session, Beating {
  readonly #listener: SessionListener;
  readonly #options: SessionOptions;
  readonly #heartbeats: Heartbeats;
  readonly #localAddress: string | undefined;
  readonly #link: WebSocketLink;
  #phase: PhaseValue = Phase.Idle;
  /** From the Engine.IO handshake (numbers only: the sid is not needed over websocket); Infinity until it came. */
  #pingIntervalMs = Infinity;
  #pingTimeoutMs = Infinity;
  #authJson: string | undefined;
  #ready: ((error: unknown) => void) | undefined;
  /** Events received before the namespace connect was acknowledged (copies), in order. */
  #early: Buffer[] | undefined;
  /** A binary packet waiting for its attachments (a copy), or undefined (none, or another namespace's). */
  #binaryPacket: Buffer | undefined;
  #attachmentsLeft = 0;
  lastHeardAt = 0;
  nextPingAt = 0;

  constructor(listener: SessionListener, options: SessionOptions, heartbeats: Heartbeats, localAddress: string | undefined) {
    this.#listener = listener;
    this.#localAddress = localAddress;
    this.#options = options;
    this.#heartbeats = heartbeats;
    this.#link = new WebSocketLink({ message: (data, isBinary) => this.#received(data, isBinary), closed: (error) => this.#ended(error) });
  }

  get isOpen(): boolean {
    return this.#phase === Phase.Open;
  }

  get deadAfterMs(): number {
    return this.#pingIntervalMs + this.#pingTimeoutMs;
  }

  /** Engine.IO 3: the client's ping period (at least 10 ms); Engine.IO 4: Infinity, the server pings. */
  get clientPingEveryMs(): number {
    return this.#options.socketio.eio === 3 ? Math.max(10, this.#pingIntervalMs) : Infinity;
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
      throw engineRefusal(error);
    }
    const timer = setTimeout(() => this.#settle(this.#handshakeTimeout(url)), this.#options.connectTimeoutMs);
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
    if (this.#phase === Phase.Open) this.#link.send(`41${namespacePrefix(this.#options.socketio.namespace)}`);
    this.#phase = Phase.Closed;
    this.#early = undefined;
    this.#binaryPacket = undefined;
    this.#heartbeats.remove(this);
    this.#link.close();
  }

  /** Sends an Engine.IO 3 ping. Called by the heartbeats. */
  ping(): void {
    this.#link.send('2');
  }

  /** Drops a link whose heartbeats stopped. Called by the heartbeats. */
  expire(): void {
    this.#link.fail(new ExchangeError('SPEAR_PING_TIMEOUT', `no heartbeat for ${this.deadAfterMs}ms`));
  }

  /** Upgraded, but no Engine.IO open packet (SPEAR_EIO_TIMEOUT), or no answer to the namespace connect (SPEAR_NAMESPACE_TIMEOUT). */
  #handshakeTimeout(url: string): ExchangeError {
    const budget = this.#options.connectTimeoutMs;
    const where = withoutQuery(url);
    if (this.#pingIntervalMs === Infinity) {
      return new ExchangeError('SPEAR_EIO_TIMEOUT', `${where} accepted the WebSocket but sent no Engine.IO open packet within ${budget}ms (is it an Engine.IO ${this.#options.socketio.eio} endpoint?)`);
    }
    return new ExchangeError('SPEAR_NAMESPACE_TIMEOUT', `${where} did not answer the connect to namespace ${this.#options.socketio.namespace} within ${budget}ms`);
  }

  /** Hot path: one Engine.IO packet (text frame) or one binary attachment. */
  #received(frame: Buffer, isBinary: boolean): void {
    if (isBinary) {
      // Attachments only: their bytes are never an Engine.IO packet type. A stray binary frame is ignored.
      if (this.#attachmentsLeft > 0) this.#attachmentArrived();
      return;
    }
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
    if (!this.#heartbeats.accepting) {
      this.#settle(new ExchangeError('SPEAR_RUN_ENDED', 'the run ended during the Socket.IO handshake'));
      return;
    }
    this.#pingIntervalMs = handshake.pingIntervalMs;
    this.#pingTimeoutMs = handshake.pingTimeoutMs;
    this.lastHeardAt = performance.now();
    // From the open packet on, the server counts heartbeats: an Engine.IO 3 server expects the first ping within pingInterval.
    this.#heartbeats.add(this);
    // EIO3 servers connect the default namespace unprompted; everything else asks.
    const revision = this.#options.socketio.eio;
    if (revision === 4 || this.#options.socketio.namespace !== '/') {
      this.#link.send(encodeConnect(this.#options.socketio.namespace, revision === 4 ? this.#authJson : undefined));
    }
  }

  #socketPacket(frame: Buffer): void {
    const packet = scratch;
    if (!decodeSocketFrame(frame, packet)) return;
    const ours = packet.namespace === this.#options.socketio.namespace;
    const attachments = packet.attachments ?? 0;
    if (attachments > 0) {
      // Wait for the attachments; another namespace's are counted off all the same.
      this.#attachmentsLeft = attachments;
      this.#binaryPacket = ours ? ownCopy(frame) : undefined;
      return;
    }
    if (ours) this.#dispatch(frame, packet);
  }

  #attachmentArrived(): void {
    this.#attachmentsLeft -= 1;
    if (this.#attachmentsLeft > 0) return;
    const frame = this.#binaryPacket;
    this.#binaryPacket = undefined;
    if (frame !== undefined && decodeSocketFrame(frame, scratch)) this.#dispatch(frame, scratch);
  }

  #dispatch(frame: Buffer, packet: SocketFrame): void {
    switch (packet.type) {
      case SocketPacket.event:
      case SocketPacket.binaryEvent:
        if (this.#phase === Phase.Opening) {
          this.#keepEarly(frame);
          return;
        }
        if (packet.ackId >= 0) this.#link.send(encodeAck(this.#options.socketio.namespace, packet.ackId));
        this.#listener.message(packet.event, frame, packet.payloadStart, packet.type === SocketPacket.binaryEvent);
        return;
      case SocketPacket.ack:
      case SocketPacket.binaryAck:
        this.#listener.acked(packet.ackId, frame, packet.payloadStart);
        return;
      case SocketPacket.connect:
        if (this.#phase === Phase.Opening) this.#connected();
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

  #keepEarly(frame: Buffer): void {
    const early = (this.#early ??= []);
    if (early.length < earlyEventsKept) early.push(ownCopy(frame));
  }

  /** The namespace connect was accepted: the session is open, and events that came first are delivered now, in order. */
  #connected(): void {
    this.#phase = Phase.Open;
    this.#settle(undefined);
    const early = this.#early;
    this.#early = undefined;
    if (early === undefined) return;
    for (const frame of early) {
      if (this.#phase !== Phase.Open) return;
      if (decodeSocketFrame(frame, scratch)) this.#dispatch(frame, scratch);
    }
  }

  #settle(error: unknown): void {
    const ready = this.#ready;
    if (ready === undefined) return;
    this.#ready = undefined;
    if (error !== undefined) {
      this.#phase = Phase.Closed;
      this.#heartbeats.remove(this);
      this.#link.close();
    }
    ready(error);
  }

  #ended(error: unknown): void {
    this.#heartbeats.remove(this);
    if (this.#ready !== undefined) {
      this.#settle(this.#pingIntervalMs === Infinity ? engineGarbage(error, this.#options.socketio.eio) : error);
      return;
    }
    if (this.#phase !== Phase.Open) return;
    this.#phase = Phase.Closed;
    this.#listener.closed(error);
  }
}

/** Sessions of the `socketio` protocol, sharing one set of heartbeat timers. */
export function socketIoSessions(options: SessionOptions): SessionFactory {
  const heartbeats = new Heartbeats();
  return {
    create: (listener, localAddress) => new SocketIoSession(listener, options, heartbeats, localAddress),
    dispose: () => heartbeats.dispose(),
  };
}
