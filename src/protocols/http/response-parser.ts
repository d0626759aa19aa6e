/**
 * An incremental HTTP/1.1 response parser that does only what a load
 * generator needs: find each response's status, frame its body
 * (content-length, chunked, or until close) and count its bytes. Headers
 * other than content-length, transfer-encoding and connection are checked
 * for form but not turned into strings; bodies are skipped, never copied.
 * Responses may arrive split across reads or several in one (pipelining).
 *
 * It is held to llhttp (Node's parser) by test/http-differential.test.ts.
 * Deliberate differences, documented in docs/http-client.md: lines of a
 * head, chunk-size lines and trailers may end in a bare LF (RFC 9112 §2.2);
 * one head may take up to 64 KiB however it is split; a content-length or
 * chunk size above 2^53 − 1 is refused; only HTTP/1.0 and 1.1 status lines
 * with statuses 100–999 are responses; header values are not checked byte
 * by byte (only the framing headers are read).
 */

import { headLimitBytes } from './http-limits.js';

/** Where complete responses go, in order. Hot path: must not block. */
export interface ResponseSink {
  /** Whether the response now expected answers a HEAD request (no body whatever the headers say). */
  nextIsBodyless(): boolean;
  /**
   * A complete response: its status and its size on the wire (head and
   * body). `more`: bytes of the same read follow it. Returns false to stop
   * parsing this read (the connection was retired).
   */
  response(status: number, bytes: number, more: boolean): boolean;
}

/**
 * Where the body bytes of each response go, when someone needs them (flow
 * `http` steps read bodies for captures and checks; request load never
 * installs one, so its parser copies nothing). Called with slices of the
 * read being parsed, in order, chunk framing removed; `data` may be a buffer
 * the parser reuses, so a sink that keeps bytes copies them. Must not throw.
 */
export interface BodySink {
  body(data: Buffer, start: number, end: number): void;
}

/** A response the parser cannot frame. Code `HPE_*`, as llhttp names them, so it classifies as a read error. */
export class ParseError extends Error {
  readonly code: string;

  constructor(code: string, message: string) {
    super(message);
    this.code = code;
  }
}

const State = {
  Head: 0,
  Body: 1,
  UntilClose: 2,
  ChunkSize: 3,
  ChunkSizeSpace: 4,
  ChunkExtension: 5,
  ChunkSizeLf: 6,
  ChunkData: 7,
  ChunkDataEnd: 8,
  ChunkDataLf: 9,
  Trailers: 10,
} as const;
type State = (typeof State)[keyof typeof State];

const CR = 13;
const LF = 10;
const SP = 0x20;
const HTAB = 0x09;
const COLON = 0x3a;
const contentLength = Buffer.from('content-length', 'latin1');
const transferEncoding = Buffer.from('transfer-encoding', 'latin1');
const connection = Buffer.from('connection', 'latin1');
const proxyConnection = Buffer.from('proxy-connection', 'latin1');
const closeToken = Buffer.from('close', 'latin1');
const keepAliveToken = Buffer.from('keep-alive', 'latin1');

/** RFC 9110 tchar: the bytes a header name may hold. */
const isTokenByte = new Uint8Array(256);
for (const byte of Buffer.from("!#$%&'*+-.^_`|~0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ", 'latin1')) isTokenByte[byte] = 1;

export class ResponseParser {
  readonly #sink: ResponseSink;
  /** Undefined for request load: one branch per body piece, nothing more. */
  readonly #bodySink: BodySink | undefined;
  #state: State = State.Head;
  /** A head split across reads, gathered here (grown by doubling; rare). */
  #pending: Buffer = Buffer.alloc(0);
  #pendingLength = 0;
  /** Where the search for the head's end resumes in `#pending`. */
  #scanFrom = 0;
  #status = 0;
  #remaining = 0;
  #chunkSize = 0;
  #chunkDigits = 0;
  #lineEmpty = true;
  #trailerBytes = 0;
  /** A trailer line or chunk extension being read (rare paths only). */
  #line = '';
  #closeAfter = false;
  /** Bytes of the current response consumed so far. */
  #bytes = 0;
  /** Set by a step that ended a response; `execute` delivers it once the step's bytes are counted. */
  #done = false;

  constructor(sink: ResponseSink, bodySink?: BodySink) {
    this.#sink = sink;
    this.#bodySink = bodySink;
  }

  /** True when the server said it will close after the response just delivered. */
  get closeAfter(): boolean {
    return this.#closeAfter;
  }

  /** True between the first byte of a response and its end. */
  get inResponse(): boolean {
    return this.#state !== State.Head || this.#pendingLength > 0;
  }

  /**
   * Feeds one read; complete responses go to the sink as they end. Throws
   * ParseError on a malformed response. Stops early when the sink says so.
   */
  execute(chunk: Buffer): void {
    let data = chunk;
    let offset = 0;
    if (this.#pendingLength > 0) {
      const end = this.#gather(chunk);
      if (end < 0) return;
      data = this.#pending.subarray(0, this.#pendingLength);
      this.#pendingLength = 0;
      offset = this.#head(data, 0);
      this.#bytes += offset;
      if (this.#done) {
        offset = this.#skipEmptyLines(data, offset);
        if (!this.#deliver(offset < data.length)) return;
      }
    }
    while (offset < data.length) {
      const start = offset;
      offset = this.#step(data, offset);
      this.#bytes += offset - start;
      if (this.#done) {
        // Empty lines after a response are not bytes of the next one (nor unsolicited).
        const rest = this.#skipEmptyLines(data, offset);
        if (!this.#deliver(rest < data.length)) return;
        offset = rest;
      }
    }
  }

  /**
   * The peer closed cleanly (no error). Returns the wire size of the
   * response the close completed (a body framed by the close), or -1 when
   * none was. Forgets all state either way.
   */
  finishAtClose(): number {
    const bytes = this.#state === State.UntilClose ? this.#bytes : -1;
    this.reset();
    return bytes;
  }

  /** The status of the response being read (valid once its head is parsed). */
  get status(): number {
    return this.#status;
  }

  /** Forgets all state (a new connection). */
  reset(): void {
    this.#state = State.Head;
    this.#pendingLength = 0;
    this.#scanFrom = 0;
    this.#closeAfter = false;
    this.#bytes = 0;
    this.#done = false;
  }

  #deliver(more: boolean): boolean {
    this.#done = false;
    const bytes = this.#bytes;
    this.#bytes = 0;
    return this.#sink.response(this.#status, bytes, more) && !this.#closeAfter;
  }

  /** Past empty lines (CR, LF) after a response, which servers may send and llhttp skips. */
  #skipEmptyLines(data: Buffer, offset: number): number {
    let index = offset;
    while (index < data.length && (data[index] === CR || data[index] === LF)) index += 1;
    return index;
  }

  #step(data: Buffer, offset: number): number {
    switch (this.#state) {
      case State.Head:
        return this.#head(data, offset);
      case State.Body: {
        const take = Math.min(this.#remaining, data.length - offset);
        this.#remaining -= take;
        if (this.#bodySink !== undefined) this.#bodySink.body(data, offset, offset + take);
        if (this.#remaining === 0) this.#end();
        return offset + take;
      }
      case State.UntilClose:
        if (this.#bodySink !== undefined) this.#bodySink.body(data, offset, data.length);
        return data.length;
      case State.ChunkData: {
        const take = Math.min(this.#remaining, data.length - offset);
        this.#remaining -= take;
        if (this.#bodySink !== undefined) this.#bodySink.body(data, offset, offset + take);
        if (this.#remaining === 0) this.#state = State.ChunkDataEnd;
        return offset + take;
      }
      default:
        return this.#chunkFraming(data, offset);
    }
  }

  /** Parses a whole head if it is here; otherwise keeps the partial head for the next reads. */
  #head(data: Buffer, at: number): number {
    // Empty lines before a status line are skipped, as llhttp does (RFC 9112 §2.2 robustness).
    const offset = this.#pendingLength === 0 ? this.#skipEmptyLines(data, at) : at;
    if (offset === data.length) return offset;
    const end = this.#parseHead(data, offset);
    if (end >= 0) return end;
    const length = data.length - offset;
    if (length > headLimitBytes) throw headOverflow();
    this.#pending = length > this.#pending.length ? Buffer.allocUnsafe(Math.max(1024, length * 2)) : this.#pending;
    data.copy(this.#pending, 0, offset);
    this.#pendingLength = length;
    this.#scanFrom = 0;
    // These bytes are counted when the whole head has arrived.
    this.#bytes -= length;
    return data.length;
  }

  /** Appends a read to a pending head. Returns the index just past the head's end in `#pending`, or -1 while it is incomplete. */
  #gather(chunk: Buffer): number {
    const needed = this.#pendingLength + chunk.length;
    if (needed > this.#pending.length) {
      const grown = Buffer.allocUnsafe(Math.max(needed, this.#pending.length * 2));
      this.#pending.copy(grown, 0, 0, this.#pendingLength);
      this.#pending = grown;
    }
    chunk.copy(this.#pending, this.#pendingLength);
    this.#pendingLength = needed;
    const end = headEnd(this.#pending, this.#scanFrom, needed);
    if (end >= 0) return end;
    if (needed > headLimitBytes) throw headOverflow();
    // A head's end is at most 3 bytes long (LF CR LF): resume just before what was searched.
    this.#scanFrom = Math.max(0, needed - 3);
    return -1;
  }

  /**
   * Parses the status line and headers starting at `start`, and sets up
   * the body. Returns the index just past the empty line ending the head,
   * or -1 (with no state changed) when the head is not complete yet.
   */
  #parseHead(data: Buffer, start: number): number {
    let lineFeed = data.indexOf(LF, start);
    if (lineFeed < 0) return -1;
    const statusEnd = lineEnd(data, start, lineFeed);
    const carriageReturn = data.indexOf(CR, start);
    // A CR that ends no line would hide the headers after it inside the status line (llhttp: HPE_STRICT).
    if (carriageReturn >= 0 && carriageReturn < statusEnd) throw new ParseError('HPE_LF_EXPECTED', 'a CR not followed by LF in the status line');
    const status = statusOf(data, start, statusEnd);
    const http10 = data[start + 7] === 0x30;
    let length = -1;
    let chunked = false;
    let close = false;
    let keepAlive = false;
    let line = lineFeed + 1;
    for (;;) {
      lineFeed = data.indexOf(LF, line);
      if (lineFeed < 0) return -1;
      const end = lineEnd(data, line, lineFeed);
      if (end === line) break;
      if (lineFeed + 1 - start > headLimitBytes) throw headOverflow();
      const colon = headerNameEnd(data, line, end);
      const nameLength = colon - line;
      if (nameLength === 14 && equalsIgnoringCase(data, line, contentLength)) {
        if (length >= 0) throw new ParseError('HPE_UNEXPECTED_CONTENT_LENGTH', 'duplicate content-length');
        length = parseLength(data, colon + 1, end);
      } else if (nameLength === 17 && equalsIgnoringCase(data, line, transferEncoding)) {
        chunked = lastToken(valueText(data, colon + 1, end)) === 'chunked';
      } else if ((nameLength === 10 && equalsIgnoringCase(data, line, connection)) || (nameLength === 16 && equalsIgnoringCase(data, line, proxyConnection))) {
        // As llhttp, proxy-connection is read like connection.
        if (hasToken(data, colon + 1, end, closeToken)) close = true;
        else if (hasToken(data, colon + 1, end, keepAliveToken)) keepAlive = true;
      }
      line = lineFeed + 1;
    }
    const headEndIndex = lineFeed + 1;
    if (headEndIndex - start > headLimitBytes) throw headOverflow();
    if (chunked && length >= 0) throw new ParseError('HPE_UNEXPECTED_CONTENT_LENGTH', 'content-length together with transfer-encoding: chunked');
    this.#status = status;
    this.#closeAfter = close || (http10 && !keepAlive);
    // spear never asks to upgrade: a 101 means what follows is no longer HTTP/1.1 (node errors too).
    if (status === 101) throw new ParseError('HPE_UNEXPECTED_UPGRADE', '101 Switching Protocols answered a request that asked for no upgrade');
    if (status < 200) {
      // Informational: the final head for the same request follows.
      this.#closeAfter = false;
      return headEndIndex;
    }
    this.#frameBody(status, chunked, length);
    return headEndIndex;
  }

  #frameBody(status: number, chunked: boolean, length: number): void {
    if (status < 200 || status === 204 || status === 304 || this.#sink.nextIsBodyless()) {
      this.#end();
    } else if (chunked) {
      this.#state = State.ChunkSize;
      this.#chunkSize = 0;
      this.#chunkDigits = 0;
    } else if (length >= 0) {
      this.#remaining = length;
      if (length === 0) this.#end();
      else this.#state = State.Body;
    } else {
      this.#state = State.UntilClose;
      this.#closeAfter = true;
    }
  }

  /** Chunk-size lines, the line end after chunk data, and trailers: byte by byte, they are short. */
  #chunkFraming(data: Buffer, offset: number): number {
    let index = offset;
    while (index < data.length) {
      const byte = data[index]!;
      index += 1;
      switch (this.#state) {
        case State.ChunkSize:
          this.#chunkSizeByte(byte);
          break;
        case State.ChunkSizeSpace:
          // Whitespace after the size only before an extension (RFC 9112 §7.1.1 BWS).
          if (byte === 0x3b) this.#startExtension();
          else if (byte !== SP && byte !== HTAB) throw new ParseError('HPE_INVALID_CHUNK_SIZE', 'invalid character after the chunk size');
          break;
        case State.ChunkExtension:
          if (byte === CR) {
            this.#checkExtension();
            this.#state = State.ChunkSizeLf;
          } else if (byte === LF) {
            this.#checkExtension();
            this.#chunkSizeDone();
          } else {
            this.#extensionByte(byte);
          }
          break;
        case State.ChunkSizeLf:
          if (byte !== LF) throw new ParseError('HPE_LF_EXPECTED', 'chunk-size line: CR not followed by LF');
          this.#chunkSizeDone();
          break;
        case State.ChunkDataEnd:
          // CRLF, never a bare LF here: a chunk size one too large would swallow the CR unnoticed.
          if (byte === CR) this.#state = State.ChunkDataLf;
          else throw new ParseError('HPE_STRICT', 'chunk data not followed by CRLF');
          break;
        case State.ChunkDataLf:
          if (byte !== LF) throw new ParseError('HPE_STRICT', 'chunk data not followed by CRLF');
          this.#nextChunk();
          break;
        case State.Trailers:
          this.#trailerByte(byte);
          break;
        default:
          return index - 1;
      }
      // The calls above move the state on: data goes back to #step, an ended response to execute.
      if ((this.#state as State) === State.ChunkData || this.#done) return index;
    }
    return index;
  }

  #chunkSizeByte(byte: number): void {
    const value = hexDigit(byte);
    if (value >= 0) {
      this.#chunkSize = this.#chunkSize * 16 + value;
      this.#chunkDigits += 1;
      if (this.#chunkSize > Number.MAX_SAFE_INTEGER) throw new ParseError('HPE_INVALID_CHUNK_SIZE', 'chunk size too large');
      return;
    }
    if (this.#chunkDigits === 0) throw new ParseError('HPE_INVALID_CHUNK_SIZE', 'chunk size missing');
    if (byte === SP || byte === HTAB) this.#state = State.ChunkSizeSpace;
    else if (byte === 0x3b) this.#startExtension();
    else this.#chunkSizeLineEnd(byte);
  }

  /** After the size (and optional spaces): only a line end may follow. */
  #chunkSizeLineEnd(byte: number): void {
    if (byte === CR) this.#state = State.ChunkSizeLf;
    else if (byte === LF) this.#chunkSizeDone();
    else throw new ParseError('HPE_INVALID_CHUNK_SIZE', 'invalid character in chunk size');
  }

  #chunkSizeDone(): void {
    if (this.#chunkSize === 0) {
      this.#state = State.Trailers;
      this.#lineEmpty = true;
      this.#trailerBytes = 0;
      this.#line = '';
    } else {
      this.#state = State.ChunkData;
      this.#remaining = this.#chunkSize;
    }
  }

  #nextChunk(): void {
    this.#state = State.ChunkSize;
    this.#chunkSize = 0;
    this.#chunkDigits = 0;
  }

  #trailerByte(byte: number): void {
    this.#trailerBytes += 1;
    if (this.#trailerBytes > headLimitBytes) throw headOverflow();
    if (byte === LF) {
      if (this.#lineEmpty) this.#end();
      else checkTrailerLine(this.#line);
      this.#lineEmpty = true;
      this.#line = '';
    } else if (byte !== CR) {
      this.#lineEmpty = false;
      this.#line += String.fromCharCode(byte);
    }
  }

  /** Chunk extensions are rare: their text is gathered and checked whole at the line end. */
  #startExtension(): void {
    this.#state = State.ChunkExtension;
    this.#line = ';';
  }

  #extensionByte(byte: number): void {
    if (this.#line.length >= maxExtensionChars) throw new ParseError('HPE_CHUNK_EXTENSIONS_OVERFLOW', 'chunk extensions too long');
    this.#line += String.fromCharCode(byte);
  }

  #checkExtension(): void {
    if (!chunkExtensions.test(this.#line)) throw new ParseError('HPE_STRICT', 'malformed chunk extension');
  }

  /** The response ends with the bytes of the current step. */
  #end(): void {
    this.#state = State.Head;
    this.#done = true;
  }
}

/** Longest chunk-extension text per chunk. */
const maxExtensionChars = 4096;
const token = "[!#$%&'*+\\-.^_`|~0-9A-Za-z]+";
/** RFC 9112 §7.1.1: *( BWS ";" BWS name [ BWS "=" BWS ( token / quoted-string ) ] ). */
const chunkExtensions = new RegExp(`^(?:[ \\t]*;[ \\t]*${token}(?:[ \\t]*=[ \\t]*(?:${token}|"(?:[^"\\\\]|\\\\.)*"))?)+[ \\t]*$`);
/** A trailer field line: a token name, a colon, a value. */
const trailerLine = new RegExp(`^${token}:`);

/** Trailer lines are rare and short: checked as text. */
function checkTrailerLine(line: string): void {
  if (!trailerLine.test(line)) throw new ParseError('HPE_INVALID_HEADER_TOKEN', 'chunked trailer line without a valid name and colon');
}

function headOverflow(): ParseError {
  return new ParseError('HPE_HEADER_OVERFLOW', `response head larger than ${headLimitBytes / 1024} KiB`);
}

/** Finds the empty line ending a head in `data[from..length)`: the index just past it, or -1. */
function headEnd(data: Buffer, from: number, length: number): number {
  let lineFeed = data.indexOf(LF, from);
  while (lineFeed >= 0 && lineFeed < length) {
    const next = lineFeed + 1;
    if (next < length && data[next] === LF) return next + 1;
    if (next + 1 < length && data[next] === CR && data[next + 1] === LF) return next + 2;
    lineFeed = data.indexOf(LF, next);
  }
  return -1;
}

/** The end of a line's content: before the CR of CRLF, or at a bare LF. */
function lineEnd(data: Buffer, start: number, lineFeed: number): number {
  return lineFeed > start && data[lineFeed - 1] === CR ? lineFeed - 1 : lineFeed;
}

/** "HTTP/1.x NNN[ reason]": the status, 100–999. */
function statusOf(data: Buffer, start: number, end: number): number {
  if (data[start] !== 0x48 || data[start + 1] !== 0x54 || data[start + 2] !== 0x54 || data[start + 3] !== 0x50 || data[start + 4] !== 0x2f) {
    throw new ParseError('HPE_INVALID_CONSTANT', 'response does not start with an HTTP/1.x status line');
  }
  if (data[start + 5] !== 0x31 || data[start + 6] !== 0x2e || (data[start + 7] !== 0x30 && data[start + 7] !== 0x31) || data[start + 8] !== SP) {
    throw new ParseError('HPE_INVALID_VERSION', 'response is not HTTP/1.0 or HTTP/1.1');
  }
  const status = digit(data[start + 9]) * 100 + digit(data[start + 10]) * 10 + digit(data[start + 11]);
  const after = start + 12;
  if (!(status >= 100 && status <= 999) || after > end || (after < end && data[after] !== SP)) {
    throw new ParseError('HPE_INVALID_STATUS', 'invalid response status');
  }
  return status;
}

/** Checks a header line's name (token bytes up to the colon) and returns the colon's index. */
function headerNameEnd(data: Buffer, start: number, end: number): number {
  let index = start;
  while (index < end && isTokenByte[data[index]!] === 1) index += 1;
  if (index === start || index === end || data[index] !== COLON) {
    throw new ParseError('HPE_INVALID_HEADER_TOKEN', data[start] === SP || data[start] === HTAB ? 'obsolete header line folding' : 'header line without a valid name and colon');
  }
  return index;
}

function digit(byte: number | undefined): number {
  return byte !== undefined && byte >= 0x30 && byte <= 0x39 ? byte - 0x30 : Number.NaN;
}

function hexDigit(byte: number): number {
  if (byte >= 0x30 && byte <= 0x39) return byte - 0x30;
  const lower = byte | 0x20;
  if (lower >= 0x61 && lower <= 0x66) return lower - 0x61 + 10;
  return -1;
}

/** Compares `data[at..]` with a lowercase ASCII name, ignoring case. No allocation. */
function equalsIgnoringCase(data: Buffer, at: number, name: Buffer): boolean {
  for (let index = 0; index < name.length; index += 1) {
    if ((data[at + index]! | 0x20) !== name[index]) return false;
  }
  return true;
}

/** Whether a comma-separated header value holds `token` (lowercase ASCII) as a whole element, ignoring case. No allocation. */
function hasToken(data: Buffer, start: number, end: number, token: Buffer): boolean {
  let element = start;
  while (element < end) {
    let comma = element;
    while (comma < end && data[comma] !== 0x2c) comma += 1;
    let first = element;
    let last = comma;
    while (first < last && (data[first] === SP || data[first] === HTAB)) first += 1;
    while (last > first && (data[last - 1] === SP || data[last - 1] === HTAB)) last -= 1;
    if (last - first === token.length && equalsIgnoringCase(data, first, token)) return true;
    element = comma + 1;
  }
  return false;
}

/** A content-length value: digits with optional surrounding whitespace, at most 2^53 − 1. */
function parseLength(data: Buffer, start: number, end: number): number {
  let index = start;
  while (index < end && (data[index] === SP || data[index] === HTAB)) index += 1;
  let value = 0;
  let digits = 0;
  while (index < end && data[index]! >= 0x30 && data[index]! <= 0x39) {
    value = value * 10 + (data[index]! - 0x30);
    digits += 1;
    index += 1;
  }
  while (index < end && (data[index] === SP || data[index] === HTAB)) index += 1;
  if (digits === 0 || index !== end) throw new ParseError('HPE_INVALID_CONTENT_LENGTH', 'invalid content-length');
  if (value > Number.MAX_SAFE_INTEGER) throw new ParseError('HPE_INVALID_CONTENT_LENGTH', 'content-length too large');
  return value;
}

function valueText(data: Buffer, start: number, end: number): string {
  return data.toString('latin1', start, end).trim();
}

/** The last comma-separated coding of a transfer-encoding value, lowercased. */
function lastToken(value: string): string {
  return value.slice(value.lastIndexOf(',') + 1).trim().toLowerCase();
}

