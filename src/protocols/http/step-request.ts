import { ExchangeError } from '../exchange-error.js';
import type { PreparedRequest } from './request-bytes.js';
import { headerValueProblem } from './request-text.js';

/** Methods whose requests announce a body even when it is empty (`content-length: 0`), as undici does (RFC 9110 §8.6). */
const expectsBody = new Set(['POST', 'PUT', 'PATCH', 'QUERY', 'PROPFIND', 'PROPPATCH']);

/** Methods a client may resend when the server closed a kept connection before answering (RFC 9110 §9.2.2). */
const idempotent = new Set(['GET', 'HEAD', 'PUT', 'DELETE', 'OPTIONS', 'TRACE']);

/** One rendered flow `http` step, serialized: the bytes and what the pool needs to know about them. */
export interface StepRequest extends PreparedRequest {
  /** The server may see it twice without harm: resent once when a kept connection turns out closed. */
  readonly idempotent: boolean;
}

/**
 * Serializes one flow `http` step for spear's HTTP/1.1 client, with the
 * headers undici's `dispatch` wrote for it before (so servers see the same
 * request): the request line with the URL's path and query as `new URL()`
 * encoded them, `host` (the URL's host and non-default port, unless the
 * step sets one), the step's headers (names lowercase, values UTF-8), and
 * `content-length` with the body's true length when there is a body or the
 * method expects one (a `content-length` the step sets is replaced by the
 * true one). No `connection` header: keep-alive is HTTP/1.1's default. No
 * user-agent: undici's dispatch sent none. Throws SPEAR_INVALID_HEADER when
 * a rendered value holds CR, LF or NUL (a captured value could otherwise
 * split the request on the wire). Allocates the request's bytes.
 */
export function stepRequest(method: string, url: URL, headers: readonly (readonly [string, string])[], body: string | undefined): StepRequest {
  let head = `${method} ${url.pathname}${url.search} HTTP/1.1\r\n`;
  let host = url.host;
  let fields = '';
  for (const [name, value] of headers) {
    const problem = headerValueProblem(value);
    if (problem !== undefined) throw new ExchangeError('SPEAR_INVALID_HEADER', `${method} ${url.pathname}: header ${name}: ${problem}`);
    if (name === 'host') host = value;
    else if (name !== 'content-length') fields += `${name}: ${value}\r\n`;
  }
  head += `host: ${host}\r\n${fields}`;
  const bodyBytes = body === undefined || body === '' ? undefined : Buffer.from(body, 'utf8');
  if (bodyBytes !== undefined || expectsBody.has(method)) head += `content-length: ${bodyBytes?.length ?? 0}\r\n`;
  head += '\r\n';
  const headBytes = Buffer.from(head, 'utf8');
  return {
    bytes: bodyBytes === undefined ? headBytes : Buffer.concat([headBytes, bodyBytes]),
    bodyless: method === 'HEAD',
    idempotent: idempotent.has(method),
  };
}
