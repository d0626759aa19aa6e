/**
 * Long connections (WebSocket, Socket.IO): one Session per virtual user.
 * A session knows framing and heartbeats; it knows nothing of flows,
 * histograms or broadcasts. Everything runs on the agent's event loop.
 */

import type { LookupFunction } from 'node:net';
import type { ConnectionOptions } from 'node:tls';

/** What a session reports to its user. */
export interface SessionListener {
  /**
   * An application message. Socket.IO: an event, `event` its name and the
   * JSON arguments array starting at `payloadStart` in `frame`; `isBinary`
   * for an event that carried binary attachments (reported once they all
   * arrived; the JSON holds `{"_placeholder":true,"num":i}` in their place).
   * Plain WebSocket: `event` is "" and the whole frame is the message,
   * `isBinary` for a binary frame. May come before `open` resolves (events
   * a server sent with its namespace acknowledgement). Hot path: `frame` is
   * only valid during the call; a listener that keeps it copies it.
   */
  message(event: string, frame: Buffer, payloadStart: number, isBinary: boolean): void;
  /** An acknowledgement for `ackId` (Socket.IO), arguments from `payloadStart`. */
  acked(ackId: number, frame: Buffer, payloadStart: number): void;
  /**
   * The session ended after `open` resolved: `error` carries the cause's
   * code — `WS_<close code>` for a WebSocket close frame from the server,
   * SPEAR_SOCKET_CLOSED or an errno without one, SPEAR_PING_TIMEOUT,
   * SPEAR_SERVER_CLOSED for an Engine.IO close or Socket.IO disconnect
   * packet. Called at most once, never after this side's `close()`.
   */
  closed(error: unknown): void;
}

/** Options every session of a run shares. */
export interface SessionOptions {
  readonly connectTimeoutMs: number;
  readonly perMessageDeflate: boolean;
  /**
   * Resolves each connection's host (undefined: the system's resolver). An
   * agent with --allow-target passes its policy's, which fails a connection
   * to a name now pointing somewhere not allowed (SPEAR_TARGET_NOT_ALLOWED).
   */
  readonly lookup?: LookupFunction | undefined;
  /** For wss:// connects: the run's target TLS options (`targetTlsOptions`), one secure context shared by every session. */
  readonly tls?: ConnectionOptions | undefined;
  /** Socket.IO only. */
  readonly socketio: SocketIoOptions;
}

export interface SocketIoOptions {
  /** Engine.IO revision: 4 (Socket.IO v3/v4 servers) or 3 (Socket.IO v2, netty-socketio). */
  readonly eio: 3 | 4;
  /** Handshake path, "/socket.io/" by default. */
  readonly path: string;
  readonly namespace: string;
}

/** One long connection. */
export interface Session {
  /**
   * Connects to `url` (http(s):// or ws(s)://) and resolves once application
   * messages may flow (Socket.IO: the namespace connect was accepted, with
   * `authJson` as its auth payload). Rejects with a coded error: errno,
   * `UPGRADE_<status>`, SPEAR_CONNECT_TIMEOUT, and for Socket.IO
   * SPEAR_EIO_TRANSPORT, SPEAR_EIO_VERSION, SPEAR_EIO_TIMEOUT,
   * SPEAR_NAMESPACE_TIMEOUT, SPEAR_EIO_HANDSHAKE, SPEAR_CONNECT_ERROR.
   */
  open(url: string, authJson: string | undefined): Promise<void>;
  /** Sends an event (Socket.IO) with its arguments' JSON; `ackId` ≥ 0 asks for an ack. */
  emit(event: string, dataJson: string | undefined, ackId: number): void;
  /** Sends one message as is (plain WebSocket). */
  send(data: string | Buffer): void;
  /**
   * Closes at once: whatever the kernel still holds unread is discarded
   * (callers drain first), and neither `message` nor `closed` is called
   * after a close this side asked for.
   */
  close(): void;
  readonly isOpen: boolean;
}

/** Creates sessions of one protocol; owns shared per-agent machinery such as the heartbeat timer. */
export interface SessionFactory {
  /** A session for one user; `localAddress` is the source address to bind (undefined: the system's choice). */
  create(listener: SessionListener, localAddress: string | undefined): Session;
  /** Stops shared timers; sessions must be closed first. */
  dispose(): void;
}
