/**
 * Random well-formed HTTP/1.1 (and 1.0) responses with their truth: every
 * framing RFC 9112 §6 allows a server, random statuses, header orders,
 * counts and sizes (heads under 16 KiB), interim 1xx heads and HEAD answers.
 */
import { body, chunked, generatedStatuses, head, makeCase, type AfterWrite, type Header, type Prng, randomCase, randomHeaders, type ResponseCase } from './response-primitives.js';

const kinds = ['length', 'length', 'chunked', 'chunked', 'eof11', 'eof10', 'conn-close', 'keepalive10', 'http10-length', 'interim', 'head'] as const;
type Kind = (typeof kinds)[number];

const reasons: Readonly<Record<number, string>> = { 200: 'OK', 201: 'Created', 204: 'No Content', 301: 'Moved Permanently', 304: 'Not Modified', 404: 'Not Found', 500: 'Internal Server Error', 503: 'Service Unavailable' };

/** Framing headers and body bytes of a final response. */
interface Framing {
  readonly headers: Header[];
  /** The body as sent (chunked framing included). */
  readonly wire: Buffer;
  /** The body after framing. */
  readonly bodyLength: number;
}

/** The `index`th generated case. Its name says how it is framed: gen-0042-chunked-200. */
export function generatedCase(rng: Prng, index: number): ResponseCase {
  const kind = rng.pick(kinds);
  const status = rng.pick(generatedStatuses);
  const bodyless = status === 204 || status === 304 || kind === 'head';
  const version = kind === 'eof10' || kind === 'keepalive10' || kind === 'http10-length' ? '1.0' : '1.1';
  const reason = rng.chance(0.15) ? rng.pick(['', 'Whatever', 'a  b\tc', 'Oriëntatie']) : (reasons[status] ?? 'Unknown');
  const framing = frame(rng, kind, status, bodyless);
  const headers = randomHeaders(rng, 15_000);
  for (const header of framing.headers) headers.splice(rng.int(0, headers.length), 0, header);
  const final = Buffer.concat([Buffer.from(head(`HTTP/${version} ${status} ${reason}`, headers, rng), 'latin1'), framing.wire]);
  const interim = kind === 'interim' ? interimHeads(rng) : Buffer.alloc(0);
  const bytes = Buffer.concat([interim, final]);
  const name = `gen-${String(index).padStart(4, '0')}-${kind}-${status}`;
  const after = afterWrite(rng, kind, bodyless);
  return makeCase(rng, name, bytes, {
    method: kind === 'head' ? 'HEAD' : 'GET',
    afterWrite: after,
    truth: { status, bodyLength: framing.bodyLength, wireBytes: bytes.length, reusable: after === 'keep' && reusable(kind, bodyless) },
  });
}

function frame(rng: Prng, kind: Kind, status: number, bodyless: boolean): Framing {
  const length = rng.chance(0.1) ? 0 : rng.chance(0.1) ? rng.int(4000, 20_000) : rng.int(1, 1500);
  const content = bodyless ? Buffer.alloc(0) : body(rng, length);
  const contentLength = (value: number): Header => [randomCase(rng, 'content-length'), rng.chance(0.05) ? `00${value}` : String(value)];
  const transferEncoding = (): Header => [randomCase(rng, 'transfer-encoding'), rng.pick(['chunked', 'chunked', 'Chunked', 'CHUNKED', 'gzip, chunked'])];
  const headers: Header[] = [];
  if (kind === 'head') {
    // A HEAD answer carries the headers a GET would have, and no body.
    if (rng.chance(0.7)) headers.push(contentLength(rng.int(0, 100_000)));
    else if (status !== 204) headers.push(transferEncoding());
    return { headers, wire: Buffer.alloc(0), bodyLength: 0 };
  }
  if (status === 304 && kind !== 'eof10' && kind !== 'eof11' && rng.chance(0.5)) headers.push(contentLength(rng.int(1, 5000)));
  if (kind === 'eof10' || kind === 'eof11') return { headers, wire: content, bodyLength: content.length };
  if (kind === 'conn-close') headers.push([randomCase(rng, 'connection'), rng.pick(['close', 'Close', 'CLOSE'])]);
  if (kind === 'keepalive10') {
    headers.push([randomCase(rng, 'connection'), rng.pick(['keep-alive', 'Keep-Alive'])]);
    if (rng.chance(0.5)) headers.push(['Keep-Alive', 'timeout=5, max=100']);
  }
  if (bodyless) return { headers, wire: Buffer.alloc(0), bodyLength: 0 };
  if (kind === 'chunked' || ((kind === 'conn-close' || kind === 'interim') && rng.chance(0.5))) {
    headers.push(transferEncoding());
    return { headers, wire: chunked(rng, content), bodyLength: content.length };
  }
  headers.push(contentLength(content.length));
  return { headers, wire: content, bodyLength: content.length };
}

/** One or two interim heads (100 Continue, 102 Processing, 103 Early Hints) before the final response. */
function interimHeads(rng: Prng): Buffer {
  let text = '';
  const count = rng.int(1, 2);
  for (let index = 0; index < count; index += 1) {
    const pick = rng.int(0, 2);
    if (pick === 0) text += 'HTTP/1.1 100 Continue\r\n\r\n';
    else if (pick === 1) text += 'HTTP/1.1 102 Processing\r\n\r\n';
    else text += head('HTTP/1.1 103 Early Hints', [['Link', '</style.css>; rel=preload; as=style'], ['Link', '</app.js>; rel=preload; as=script']], rng);
  }
  return Buffer.from(text, 'latin1');
}

/** Whether a client may send its next request on the connection, if the server keeps it. */
function reusable(kind: Kind, bodyless: boolean): boolean {
  if (kind === 'conn-close' || kind === 'eof10' || kind === 'http10-length') return false;
  return kind !== 'eof11' || bodyless;
}

/** Close-delimited bodies need the close; the rest mostly keep the connection for the reuse probe. */
function afterWrite(rng: Prng, kind: Kind, bodyless: boolean): AfterWrite {
  if ((kind === 'eof10' || kind === 'eof11') && !bodyless) return 'close';
  return rng.chance(0.8) ? 'keep' : 'close';
}
