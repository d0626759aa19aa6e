import { ExchangeError } from '../exchange-error.js';
import { UpgradeRefused } from '../ws/upgrade-refusal.js';

/**
 * Names the cause when an Engine.IO server refuses the WebSocket upgrade
 * with 400 and says why in its body: SPEAR_EIO_TRANSPORT when it does not
 * take the websocket transport (polling only, websocket disabled: Engine.IO
 * "Transport unknown", python-engineio "Invalid transport"), SPEAR_EIO_VERSION
 * when it does not speak the Engine.IO revision asked for (Engine.IO
 * "Unsupported protocol version", python-engineio "…unsupported version…").
 * Engine.IO's JSON form (`{"code":0|5,…}`) is read too. Anything else passes
 * through unchanged (`UPGRADE_<status>`, errno errors).
 */
export function engineRefusal(error: unknown): unknown {
  if (!(error instanceof UpgradeRefused) || error.status !== 400) return error;
  const said = reasonOf(error.body);
  if (/transport/i.test(said)) {
    return new ExchangeError('SPEAR_EIO_TRANSPORT', `the server refuses the websocket transport (${JSON.stringify(said)}): spear speaks Socket.IO over websocket only, never HTTP long-polling`);
  }
  if (/version/i.test(said)) {
    return new ExchangeError('SPEAR_EIO_VERSION', `the server refuses this Engine.IO revision (${JSON.stringify(said)}): set socketio.eio to the server's (4 for Socket.IO v3/v4, 3 for v2), or let the server accept both (allowEIO3)`);
  }
  return error;
}

/**
 * The link broke on bytes that are not WebSocket frames after the upgrade
 * but before the Engine.IO open packet (ws: `WS_ERR_*`). engine.io 6
 * (socket.io 4) answers a handshake it refuses that way: it writes its
 * "HTTP/1.1 400" onto the upgraded socket, and the usual cause is an
 * Engine.IO revision it does not take. So with `socketio.eio: 3` this is
 * SPEAR_EIO_VERSION; otherwise SPEAR_EIO_HANDSHAKE. Other errors pass.
 */
export function engineGarbage(error: unknown, eio: 3 | 4): unknown {
  const code = typeof error === 'object' && error !== null && 'code' in error ? (error as { code: unknown }).code : undefined;
  if (typeof code !== 'string' || !code.startsWith('WS_ERR_')) return error;
  const what = `the server wrote something other than WebSocket frames before its Engine.IO open packet (${code}): engine.io 6 writes its HTTP 400 refusal there`;
  if (eio === 3) return new ExchangeError('SPEAR_EIO_VERSION', `${what}, most often because it does not take Engine.IO 3: set socketio.eio to 4, or let the server accept both (allowEIO3)`);
  return new ExchangeError('SPEAR_EIO_HANDSHAKE', what);
}

const engineErrorMessages: Readonly<Record<number, string>> = { 0: 'Transport unknown', 5: 'Unsupported protocol version' };

/** The body's reason: Engine.IO's `{"code","message"}`, a JSON string, or the text itself. */
function reasonOf(body: string): string {
  let parsed: unknown;
  try {
    parsed = JSON.parse(body);
  } catch {
    return body;
  }
  if (typeof parsed === 'string') return parsed;
  if (typeof parsed === 'object' && parsed !== null) {
    const { code, message } = parsed as Record<string, unknown>;
    if (typeof message === 'string') return message;
    if (typeof code === 'number') return engineErrorMessages[code] ?? body;
  }
  return body;
}
