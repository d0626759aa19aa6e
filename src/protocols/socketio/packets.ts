/**
 * Engine.IO (v3 and v4) and Socket.IO (v2 to v5 packet format) framing for
 * the websocket transport, written here on purpose: one text frame is one
 * Engine.IO packet, so framing is a leading digit or two. Decoding works on
 * the received Buffer and allocates only the event name; the arguments stay
 * as bytes until someone needs them (broadcast deliveries never parse JSON).
 * Binary events and acks (`45<n>-…`, `46<n>-…`) announce n attachments that
 * follow as binary frames; the session counts them off (see `SocketIoSession`).
 */

/** Engine.IO packet types (first character of a text frame). */
export const EnginePacket = { open: 0x30, close: 0x31, ping: 0x32, pong: 0x33, message: 0x34, upgrade: 0x35, noop: 0x36 } as const;

/** Socket.IO packet types (second character of an Engine.IO message). */
export const SocketPacket = {
  connect: 0x30, disconnect: 0x31, event: 0x32, ack: 0x33, connectError: 0x34, binaryEvent: 0x35, binaryAck: 0x36,
} as const;

/** Engine.IO protocol revision: 4 for Socket.IO v3/v4 servers, 3 for Socket.IO v2 (and netty-socketio). */
export type EngineRevision = 3 | 4;

/** The Engine.IO handshake values a client needs. */
export interface EngineHandshake {
  readonly sid: string;
  readonly pingIntervalMs: number;
  readonly pingTimeoutMs: number;
}

/** A decoded Socket.IO packet; `argsStart` indexes the frame where the JSON array (or object) begins. */
export interface SocketFrame {
  type: number;
  /** Namespace, "/" when absent. */
  namespace: string;
  /** Ack id, -1 when absent. */
  ackId: number;
  /** Binary attachments announced (`45<n>-`), 0 for other packets; always set by `decodeSocketFrame`. */
  attachments?: number;
  /** Event name for event packets, "" otherwise. */
  event: string;
  /** Offset of the payload (JSON) in the frame; equals the frame length when there is none. */
  payloadStart: number;
}

const comma = 0x2c;
const slash = 0x2f;
const quote = 0x22;
const backslash = 0x5c;
const openBracket = 0x5b;
/** More attachments than this in one packet is not a real packet. */
const maxAttachments = 1000;

/** Parses the Engine.IO open packet's JSON; undefined when it is not one. */
export function parseHandshake(text: string): EngineHandshake | undefined {
  if (text.charCodeAt(0) !== EnginePacket.open) return undefined;
  let value: unknown;
  try {
    value = JSON.parse(text.slice(1));
  } catch {
    return undefined;
  }
  if (typeof value !== 'object' || value === null) return undefined;
  const record = value as Record<string, unknown>;
  const { sid, pingInterval, pingTimeout } = record;
  if (typeof sid !== 'string' || typeof pingInterval !== 'number' || typeof pingTimeout !== 'number') return undefined;
  return { sid, pingIntervalMs: pingInterval, pingTimeoutMs: pingTimeout };
}

/**
 * Decodes a Socket.IO packet carried in an Engine.IO message frame (the
 * frame starts with "4"). Fills `into` and returns true, or returns false
 * for a malformed frame. Hot path: allocates the namespace only when it is
 * not "/" and the event name.
 */
export function decodeSocketFrame(frame: Buffer, into: SocketFrame): boolean {
  const length = frame.length;
  if (length < 2) return false;
  into.type = frame[1]!;
  into.namespace = '/';
  into.ackId = -1;
  into.event = '';
  into.attachments = 0;
  let at = 2;
  if (into.type === SocketPacket.binaryEvent || into.type === SocketPacket.binaryAck) {
    // "<n>-" attachment count precedes the namespace.
    let count = 0;
    for (; at < length && frame[at] !== 0x2d; at += 1) {
      const digit = frame[at]! - 0x30;
      if (digit < 0 || digit > 9) return false;
      count = count * 10 + digit;
    }
    if (at === length || count > maxAttachments) return false;
    into.attachments = count;
    at += 1;
  }
  if (at < length && frame[at] === slash) {
    const end = frame.indexOf(comma, at);
    const stop = end === -1 ? length : end;
    into.namespace = frame.toString('latin1', at, stop);
    at = end === -1 ? length : end + 1;
  }
  let ackId = -1;
  while (at < length) {
    const byte = frame[at]!;
    if (byte < 0x30 || byte > 0x39) break;
    ackId = (ackId < 0 ? 0 : ackId * 10) + (byte - 0x30);
    at += 1;
  }
  into.ackId = ackId;
  into.payloadStart = at;
  if (into.type === SocketPacket.event || into.type === SocketPacket.binaryEvent) {
    if (frame[at] !== openBracket || frame[at + 1] !== quote) return false;
    const name = eventName(frame, at + 2);
    if (name === undefined) return false;
    into.event = name;
  }
  return true;
}

function eventName(frame: Buffer, start: number): string | undefined {
  for (let at = start; at < frame.length; at += 1) {
    const byte = frame[at]!;
    if (byte === quote) return frame.toString('utf8', start, at);
    if (byte === backslash) {
      // Rare: an escaped name; let JSON do it properly.
      const close = frame.indexOf('",', start);
      const end = close === -1 ? frame.indexOf('"]', start) : close;
      if (end === -1) return undefined;
      try {
        const parsed: unknown = JSON.parse(frame.toString('utf8', start - 1, end + 1));
        return typeof parsed === 'string' ? parsed : undefined;
      } catch {
        return undefined;
      }
    }
  }
  return undefined;
}

/**
 * The event's arguments as parsed JSON (an array after the name), for
 * `expect` steps and acks; undefined when the payload is not valid JSON.
 */
export function frameArguments(frame: Buffer, socketFrame: SocketFrame): unknown[] | undefined {
  if (socketFrame.payloadStart >= frame.length) return [];
  let parsed: unknown;
  try {
    parsed = JSON.parse(frame.toString('utf8', socketFrame.payloadStart));
  } catch {
    return undefined;
  }
  if (!Array.isArray(parsed)) return [parsed];
  return socketFrame.type === SocketPacket.event || socketFrame.type === SocketPacket.binaryEvent ? parsed.slice(1) : parsed;
}

/** The namespace part of a packet: "" for "/", "/chat," otherwise. */
export function namespacePrefix(namespace: string): string {
  return namespace === '/' ? '' : `${namespace},`;
}

/** `40` / `40/chat,{auth}`: the namespace connect a client sends. */
export function encodeConnect(namespace: string, authJson: string | undefined): string {
  return `40${namespacePrefix(namespace)}${authJson ?? ''}`;
}

/** `42["event",data]` (data already JSON), with an ack id when `ackId` ≥ 0. */
export function encodeEvent(namespace: string, event: string, dataJson: string | undefined, ackId: number): string {
  const name = JSON.stringify(event);
  const args = dataJson === undefined ? `[${name}]` : `[${name},${dataJson}]`;
  return `42${namespacePrefix(namespace)}${ackId >= 0 ? ackId : ''}${args}`;
}

/** `43<id>[]`: an empty acknowledgement of an event the server sent with ack id `ackId`. */
export function encodeAck(namespace: string, ackId: number): string {
  return `43${namespacePrefix(namespace)}${ackId}[]`;
}

/** The Socket.IO connect_error payload's message, or the raw payload. */
export function connectErrorMessage(frame: Buffer, socketFrame: SocketFrame): string {
  const text = frame.toString('utf8', socketFrame.payloadStart);
  try {
    const parsed: unknown = JSON.parse(text);
    if (typeof parsed === 'string') return parsed;
    if (typeof parsed === 'object' && parsed !== null && typeof (parsed as Record<string, unknown>).message === 'string') {
      return (parsed as Record<string, string>).message!;
    }
  } catch {
    // fall through: not JSON
  }
  return text;
}
