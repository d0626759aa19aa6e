import { errorCodeOf } from '../metrics/error-kind.js';
import { ExchangeError } from '../protocols/exchange-error.js';

/**
 * undici's codes for what spear's own HTTP client reports under its own:
 * the `http` steps of long-connection flows (ws, socketio: ticket calls)
 * go through undici, HTTP journeys and load requests through spear's
 * client, and results must not tell them apart (one taxonomy).
 */
const spearCodeOf: Readonly<Record<string, string>> = {
  UND_ERR_CONNECT_TIMEOUT: 'SPEAR_CONNECT_TIMEOUT',
  UND_ERR_HEADERS_TIMEOUT: 'SPEAR_REQUEST_TIMEOUT',
  UND_ERR_BODY_TIMEOUT: 'SPEAR_REQUEST_TIMEOUT',
  UND_ERR_SOCKET: 'SPEAR_SOCKET_CLOSED',
  UND_ERR_CLOSED: 'SPEAR_CLOSED',
  UND_ERR_DESTROYED: 'SPEAR_CLOSED',
  UND_ERR_ABORTED: 'SPEAR_CLOSED',
};

/** The error with spear's code when undici's has one; errno and HPE_* errors pass unchanged. */
export function asSpearError(error: unknown): unknown {
  const code = errorCodeOf(error);
  const spearCode = spearCodeOf[code];
  if (spearCode === undefined) return error;
  // undici's socket errors carry the errno underneath (a reset is ECONNRESET, as spear's client says).
  if (!(error instanceof Error)) return new ExchangeError(spearCode, spearCode);
  if (code === 'UND_ERR_SOCKET' && errorCodeOf(error.cause).startsWith('E')) return error.cause;
  return new ExchangeError(spearCode, error.message);
}
