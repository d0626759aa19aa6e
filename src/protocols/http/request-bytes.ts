import type { HttpRequestSpec } from '../../scenarios/scenario.js';
import { wirePath } from './request-text.js';

/** One scenario request, serialized once; every send writes these same bytes. */
export interface PreparedRequest {
  readonly bytes: Buffer;
  /** The response carries no body whatever its headers say (HEAD). */
  readonly bodyless: boolean;
}

/**
 * Serializes an HTTP/1.1 request: request line, `host` (unless the scenario
 * sets one), the scenario's headers, `content-length` for a body, and the
 * body. Keep-alive is HTTP/1.1's default, so no `connection` header is sent.
 * The path is percent-encoded where it must be (`wirePath`); header values
 * go as UTF-8 (the scenario's validation refused CR, LF and NUL in them).
 */
export function prepareRequest(spec: HttpRequestSpec, target: URL): PreparedRequest {
  const body = spec.body === undefined ? undefined : Buffer.from(spec.body);
  let head = `${spec.method} ${wirePath(spec.path)} HTTP/1.1\r\n`;
  // URL.host carries the port only when it is not the scheme's default, as the header must.
  if (spec.headers.host === undefined) head += `host: ${target.host}\r\n`;
  for (const [name, value] of Object.entries(spec.headers)) head += `${name}: ${value}\r\n`;
  if (body !== undefined && spec.headers['content-length'] === undefined) head += `content-length: ${body.length}\r\n`;
  head += '\r\n';
  const headBytes = Buffer.from(head, 'utf8');
  return {
    bytes: body === undefined ? headBytes : Buffer.concat([headBytes, body]),
    bodyless: spec.method === 'HEAD',
  };
}
