import type { SessionOptions } from '../session.js';

/** Handshake URLs by connect URL: users of one node share one string instead of building two each. */
const handshakeUrls = new Map<string, string>();
const handshakeUrlsKept = 4096;

/** `http://host:port/whatever?x=1` → `ws://host:port/socket.io/?EIO=4&transport=websocket&x=1`. */
export function handshakeUrl(url: string, options: SessionOptions): string {
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
