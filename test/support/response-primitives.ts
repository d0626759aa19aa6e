/**
 * The vocabulary of the response corpus (response-corpus.ts): a case, its
 * truth, the seeded PRNG, and builders for heads, bodies, chunked framing and
 * write splits.
 */

/** What a correct client reports for the first request of a case. */
export interface Truth {
  readonly status: number;
  /** Body bytes after framing (chunk sizes, extensions and trailers removed): what node's `res` yields. */
  readonly bodyLength: number;
  /**
   * Bytes on the wire of the first request's answer, head + body, as spear's
   * `completed(slot, status, bytes)` must count them. Interim 1xx heads sent
   * before the final response count too: they are read for this exchange.
   */
  readonly wireBytes: number;
  /**
   * Whether the connection must carry the next request (the `/second`
   * probe): the server kept it, the framing ended the response without a
   * close, and nothing said close. Undefined: not asserted.
   */
  readonly reusable?: boolean;
}

/** After writing its bytes the server closes (FIN), resets (RST) or keeps the connection for `/second`. */
export type AfterWrite = 'close' | 'reset' | 'keep';

export interface ResponseCase {
  /** Unique; the differential test's leniency table matches these names. */
  readonly name: string;
  /** What the server writes for the first request. */
  readonly bytes: Buffer;
  readonly method: 'GET' | 'HEAD';
  readonly afterWrite: AfterWrite;
  /** Only for well-formed cases. */
  readonly truth?: Truth;
  /**
   * A well-formed first response followed by bytes nobody asked for (garbage,
   * an unsolicited response): whether a client reports a response or an
   * error may differ, but a response it reports must be this one.
   */
  readonly ifResponse?: Truth;
  /** Cases a strict parser refuses but RFC 9112 lets a recipient accept (bare LF): what a lenient parser must give. */
  readonly lenientTruth?: Truth;
  /** Ascending offsets inside (0, bytes.length) where the server starts a new write. */
  readonly splits: readonly number[];
  /** Pause between writes in ms (default 1), so pieces tend to arrive in separate reads. */
  readonly pauseMs?: number;
}

/** The seed `npm test` uses unless SPEAR_FUZZ_SEED is set. */
export const defaultSeed = 0x5eed_2026;

/** SPEAR_FUZZ_SEED (decimal or 0x hex) when set, else `fallback`. */
export function seedFromEnv(fallback: number = defaultSeed, name = 'SPEAR_FUZZ_SEED'): number {
  const text = process.env[name];
  if (text === undefined || text.trim() === '') return fallback;
  const value = Number(text.trim());
  if (!Number.isInteger(value) || value < 0 || value > 0xffff_ffff) throw new Error(`${name}=${text}: expected an integer in 0..2^32-1`);
  return value;
}

/** A seeded float source in [0, 1) (Prng's sequence), for tests that take a plain function. */
export function seededRandom(seed: number): () => number {
  const prng = new Prng(seed);
  return () => prng.next();
}

/** mulberry32: small, fast, and the same sequence on every platform. */
export class Prng {
  #state: number;

  constructor(seed: number) {
    this.#state = seed >>> 0;
  }

  /** A float in [0, 1). */
  next(): number {
    this.#state = (this.#state + 0x6d2b79f5) >>> 0;
    let t = this.#state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }

  /** An integer in [low, high]. */
  int(low: number, high: number): number {
    return low + Math.floor(this.next() * (high - low + 1));
  }

  chance(probability: number): boolean {
    return this.next() < probability;
  }

  pick<T>(items: readonly T[]): T {
    const item = items[Math.floor(this.next() * items.length)];
    if (item === undefined) throw new Error('pick from an empty list');
    return item;
  }
}

/**
 * Random write splits for `length` bytes: none, a few anywhere, or a run of
 * 1-byte writes at a random spot; only before `before` when given (a case
 * whose tail must arrive in one write with the end of what precedes it).
 */
export function randomSplits(rng: Prng, length: number, before = length): number[] {
  if (length < 2 || rng.chance(0.25)) return [];
  const cuts = new Set<number>();
  const scattered = rng.int(1, Math.min(8, length - 1));
  for (let count = 0; count < scattered; count += 1) cuts.add(rng.int(1, length - 1));
  if (rng.chance(0.3)) {
    const run = rng.int(2, 16);
    const start = rng.int(1, Math.max(1, length - run));
    for (let offset = start; offset < Math.min(length, start + run); offset += 1) cuts.add(offset);
  }
  return [...cuts].filter((offset) => offset > 0 && offset < Math.min(length, before)).sort((a, b) => a - b);
}

/** Status codes the generator draws from (600 and 999 are outside 1xx–5xx but three digits, which HTTP/1.1 allows). */
export const generatedStatuses = [200, 201, 204, 301, 304, 404, 500, 503, 599, 600, 999] as const;

const commonNames = ['Date', 'Server', 'Content-Type', 'Cache-Control', 'ETag', 'Last-Modified', 'Vary', 'X-Request-Id', 'Set-Cookie', 'Link', 'Access-Control-Allow-Origin', 'X-Powered-By', 'Accept-Ranges', 'Strict-Transport-Security', 'Keep-Alive', 'Age', 'Via', 'Content-Language'];
const tokenChars = "!#$%&'*+-.^_`|~0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ";
const valueChars = ' !"#$%&\'()*+,-./0123456789:;<=>?@ABCDEFGHIJKLMNOPQRSTUVWXYZ[\\]^_`abcdefghijklmnopqrstuvwxyz{|}~';
const framingNames = new Set(['content-length', 'transfer-encoding', 'connection', 'proxy-connection', 'upgrade', 'keep-alive']);

export type Header = readonly [name: string, value: string];

function randomToken(rng: Prng, length: number): string {
  let text = '';
  for (let index = 0; index < length; index += 1) text += rng.pick([...tokenChars]);
  return text;
}

function randomValue(rng: Prng, length: number): string {
  let text = '';
  for (let index = 0; index < length; index += 1) {
    // Mostly VCHAR and SP; now and then an HTAB or an obs-text byte (0x80-0xff), both allowed inside a value.
    text += rng.chance(0.02) ? '\t' : rng.chance(0.01) ? String.fromCharCode(rng.int(0x80, 0xff)) : rng.pick([...valueChars]);
  }
  // Field values do not start or end with whitespace (that would be OWS around them).
  return text.trim() === text ? text : `v${text.trim()}v`;
}

/** Framing header names in a random spelling. */
export function randomCase(rng: Prng, name: string): string {
  const style = rng.int(0, 3);
  if (style === 0) return name.toLowerCase();
  if (style === 1) return name.toUpperCase();
  if (style === 2) return name.replace(/(^|-)([a-z])/g, (_all, dash: string, letter: string) => dash + letter.toUpperCase());
  return [...name].map((char) => (rng.chance(0.5) ? char.toUpperCase() : char.toLowerCase())).join('');
}

/** 0–30 ordinary headers, names and sizes random, the whole under `budget` bytes on the wire. */
export function randomHeaders(rng: Prng, budget: number): Header[] {
  const headers: Header[] = [];
  let used = 0;
  const count = rng.chance(0.1) ? 0 : rng.int(1, rng.chance(0.2) ? 30 : 8);
  for (let index = 0; index < count; index += 1) {
    let name = rng.chance(0.6) ? rng.pick(commonNames) : `X-${randomToken(rng, rng.int(1, 24))}`;
    if (framingNames.has(name.toLowerCase())) name = `X-${name}`;
    const size = rng.chance(0.05) ? rng.int(1000, 6000) : rng.chance(0.1) ? 0 : rng.int(1, 120);
    const value = randomValue(rng, size);
    const line = name.length + 2 + value.length + 2;
    if (used + line > budget) break;
    used += line;
    headers.push([name, value]);
  }
  return headers;
}

/** The head: status line, header lines (with random optional whitespace), blank line. */
export function head(statusLine: string, headers: readonly Header[], rng?: Prng): string {
  let text = `${statusLine}\r\n`;
  for (const [name, value] of headers) {
    const before = rng === undefined ? ' ' : rng.pick([' ', ' ', '', '  ', '\t', ' \t']);
    // Trailing OWS only as spaces: llhttp 9.3 (node 20) takes a trailing HTAB into the value, which
    // breaks content-length, transfer-encoding and connection; named edge cases cover that.
    const after = rng === undefined ? '' : rng.pick(['', '', '', ' ', '  ']);
    text += `${name}:${value === '' ? '' : before}${value}${value === '' ? '' : after}\r\n`;
  }
  return `${text}\r\n`;
}

/** A body of `length` printable bytes. */
export function body(rng: Prng, length: number): Buffer {
  const bytes = Buffer.alloc(length);
  for (let index = 0; index < length; index += 1) bytes[index] = rng.int(0x20, 0x7e);
  return bytes;
}

/** Chunked encoding of `data`: random chunk sizes (1-byte chunks too), hex spellings, extensions, trailers. */
export function chunked(rng: Prng, data: Buffer): Buffer {
  const parts: Buffer[] = [];
  const oneByte = rng.chance(0.15);
  let offset = 0;
  while (offset < data.length) {
    const size = oneByte ? 1 : Math.min(data.length - offset, rng.int(1, rng.chance(0.5) ? 16 : 2048));
    parts.push(Buffer.from(`${chunkSize(rng, size)}${chunkExtension(rng)}\r\n`, 'latin1'), data.subarray(offset, offset + size), Buffer.from('\r\n'));
    offset += size;
  }
  let last = `${rng.pick(['0', '0', '00', '000'])}${chunkExtension(rng)}\r\n`;
  const trailers = rng.chance(0.25) ? rng.int(1, 3) : 0;
  for (let index = 0; index < trailers; index += 1) last += `${rng.pick(['Expires', 'X-Checksum', 'Server-Timing', `X-${randomToken(rng, 6)}`])}: ${randomValue(rng, rng.int(1, 40))}\r\n`;
  parts.push(Buffer.from(`${last}\r\n`, 'latin1'));
  return Buffer.concat(parts);
}

function chunkSize(rng: Prng, size: number): string {
  const hex = size.toString(16);
  const spelled = rng.chance(0.5) ? hex : hex.toUpperCase();
  return rng.chance(0.1) ? `00${spelled}` : spelled;
}

function chunkExtension(rng: Prng): string {
  if (!rng.chance(0.15)) return '';
  return rng.pick([';ext', ';name=value', `;${randomToken(rng, 5)}=${randomToken(rng, 8)}`, ';q="quoted; value"', ';a=1;b']);
}

/** How a case is written; splits are random unless given. */
export interface CaseOptions {
  readonly method?: 'GET' | 'HEAD';
  readonly afterWrite?: AfterWrite;
  readonly truth?: Truth;
  readonly ifResponse?: Truth;
  readonly lenientTruth?: Truth;
  readonly splits?: readonly number[];
  /** Random splits only before this offset: what follows arrives in one write with the end of what precedes it. */
  readonly splitBefore?: number;
  readonly pauseMs?: number;
}

/** A case from its bytes; splits random unless given. */
export function makeCase(rng: Prng, name: string, bytes: Buffer | string, options: CaseOptions = {}): ResponseCase {
  const data = typeof bytes === 'string' ? Buffer.from(bytes, 'latin1') : bytes;
  const response: ResponseCase = {
    name,
    bytes: data,
    method: options.method ?? 'GET',
    afterWrite: options.afterWrite ?? 'keep',
    splits: options.splits ?? randomSplits(rng, data.length, options.splitBefore),
    ...(options.truth === undefined ? {} : { truth: options.truth }),
    ...(options.ifResponse === undefined ? {} : { ifResponse: options.ifResponse }),
    ...(options.lenientTruth === undefined ? {} : { lenientTruth: options.lenientTruth }),
    ...(options.pauseMs === undefined ? {} : { pauseMs: options.pauseMs }),
  };
  return response;
}
