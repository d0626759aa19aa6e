import type { IncomingMessage } from 'node:http';
import { ExchangeError } from '../exchange-error.js';

/** At most this much of a refusal's body is kept: enough for any server's one-line reason. */
const bodyBytesKept = 512;

/**
 * The server answered the WebSocket upgrade with an HTTP status instead of
 * 101: code `UPGRADE_<status>`, with the start of its response body, which
 * often says why (Engine.IO: "Transport unknown", "Unsupported protocol
 * version"; python-engineio: "Invalid transport").
 */
export class UpgradeRefused extends ExchangeError {
  readonly status: number;
  /** The response body's first 512 bytes as text, trimmed; "" when there was none. */
  readonly body: string;

  constructor(url: string, status: number, body: string) {
    super(`UPGRADE_${status}`, `${withoutQuery(url)} answered the WebSocket upgrade with HTTP ${status}${body === '' ? '' : `: ${JSON.stringify(body)}`}`);
    this.status = status;
    this.body = body;
  }
}

/** A URL for messages: its query may carry credentials (a ticket's token), so it is left out. */
export function withoutQuery(url: string): string {
  const query = url.indexOf('?');
  return query === -1 ? url : url.slice(0, query);
}

/**
 * Reads the start of a refused upgrade's response body and calls `done`
 * once with it (never more than 512 bytes are held; the rest is not
 * waited for). The caller aborts the request afterwards.
 */
export function readRefusalBody(response: IncomingMessage, done: (body: string) => void): void {
  const chunks: Buffer[] = [];
  let held = 0;
  let finished = false;
  const finish = (): void => {
    if (finished) return;
    finished = true;
    response.off('data', onData);
    done(Buffer.concat(chunks).toString('utf8').trim());
  };
  const onData = (chunk: Buffer): void => {
    chunks.push(chunk.subarray(0, bodyBytesKept - held));
    held += chunk.length;
    if (held >= bodyBytesKept) finish();
  };
  response.on('data', onData);
  response.once('end', finish);
  response.once('error', finish);
  response.once('close', finish);
}
