/**
 * An incremental HTTP/1.1 response parser that does only what a load
 * generator needs: find each response's status, frame its body
 * (content-length, chunked, or until close) and count its bytes. Headers
 * other than content-length, transfer-encoding and connection are skipped
 * without being turned into strings; bodies are skipped, never copied.
 * Responses may arrive split across reads or several in one (pipelining).
 */

/** Where complete responses go, in order. Hot path: must not block. */
export interface ResponseSink {
  /** Whether the response now expected answers a HEAD request (no body whatever the headers say). */
  nextIsBodyless(): boolean;
  /** A complete response: its status and its size on the wire (head and body). */
  response(status: number, bytes: number): void;
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
  ChunkSize: 2,
  ChunkExtension: 3,
  ChunkData: 4,
  ChunkDataEnd: 5,
  Trailers: 6,
  UntilClose: 7,
} as const;
type State = (typeof State)[keyof typeof State];

const maxHeadBytes = 64 * 1024;
const CR = 13;
const LF = 10;
const headEnd = Buffer.from('\r\n\r\n', 'latin1');
const contentLength = Buffer.from('content-length', 'latin1');
const transferEncoding = Buffer.from('transfer-encoding', 'latin1');
const connection = Buffer.from('connection', 'latin1');

export class ResponseParser {
  readonly #sink: ResponseSink;
  #state: State = State.Head;
  /** Head bytes carried over from an earlier read (rare: heads split across reads). */
  #pending: Buffer | undefined;
  #status = 0;
  #remaining = 0;
  #chunkSize = 0;
  #lineEmpty = true;
  #closeAfter = false;
  /** Bytes of the current response consumed so far. */
  #bytes = 0;
  /** Set by a step that ended a response; `execute` delivers it once the step's bytes are counted. */
  #done = false;

  constructor(sink: ResponseSink) {
    this.#sink = sink;
  }

  /** True when the server said it will close after the response just delivered. */
  get closeAfter(): boolean {
    return this.#closeAfter;
  }

  /** True between the first byte of a response and its end. */
  get inResponse(): boolean {
    return this.#state !== State.Head || this.#pending !== undefined;
  }

  /**
   * Feeds one read; complete responses go to the sink as they end. Throws
   * ParseError on a malformed response. Returns false when the server said it
   * closes after a delivered response: the connection must not be reused.
   */
  execute(chunk: Buffer): boolean {
    let data = chunk;
    if (this.#pending !== undefined) {
      data = Buffer.concat([this.#pending, chunk]);
      this.#pending = undefined;
    }
    let offset = 0;
    while (offset < data.length) {
      const start = offset;
      offset = this.#step(data, offset);
      this.#bytes += offset - start;
      if (this.#done) {
        this.#done = false;
        const bytes = this.#bytes;
        this.#bytes = 0;
        this.#sink.response(this.#status, bytes);
        if (this.#closeAfter) return false;
      }
    }
    return true;
  }

  /** The peer closed: completes a response framed by the close. Returns true when a response was cut short. */
  finish(): boolean {
    if (this.#state === State.UntilClose) {
      const bytes = this.#bytes;
      this.reset();
      this.#sink.response(this.#status, bytes);
      return false;
    }
    return this.inResponse;
  }

  /** Forgets all state (a new connection). */
  reset(): void {
    this.#state = State.Head;
    this.#pending = undefined;
    this.#closeAfter = false;
    this.#bytes = 0;
    this.#done = false;
  }

  #step(data: Buffer, offset: number): number {
    switch (this.#state) {
      case State.Head:
        return this.#head(data, offset);
      case State.Body: {
        const take = Math.min(this.#remaining, data.length - offset);
        this.#remaining -= take;
        if (this.#remaining === 0) this.#end();
        return offset + take;
      }
      case State.UntilClose:
        return data.length;
      case State.ChunkData: {
        const take = Math.min(this.#remaining, data.length - offset);
        this.#remaining -= take;
        if (this.#remaining === 0) this.#state = State.ChunkDataEnd;
        return offset + take;
      }
      default:
        return this.#chunkFraming(data, offset);
    }
  }

  /** Parses a whole head if it is here; otherwise keeps the partial head for the next read. */
  #head(data: Buffer, offset: number): number {
    const end = data.indexOf(headEnd, offset);
    if (end === -1) {
      if (data.length - offset > maxHeadBytes) throw new ParseError('HPE_HEADER_OVERFLOW', 'response head larger than 64 KiB');
      this.#pending = Buffer.from(data.subarray(offset));
      // These bytes are counted when the whole head arrives.
      this.#bytes -= data.length - offset;
      return data.length;
    }
    this.#parseHead(data, offset, end + 2);
    return end + 4;
  }

  /** Status line and the three headers that frame the body. `end` is the CRLF ending the last header line. */
  #parseHead(data: Buffer, start: number, end: number): void {
    // "HTTP/1.1 200 OK": version at 0..7, status digits at 9..11.
    if (end - start < 12 || data[start] !== 0x48 || data[start + 4] !== 0x2f || data[start + 8] !== 0x20) {
      throw new ParseError('HPE_INVALID_CONSTANT', 'response does not start with an HTTP/1.x status line');
    }
    const status = digit(data[start + 9]) * 100 + digit(data[start + 10]) * 10 + digit(data[start + 11]);
    if (!(status >= 100 && status <= 999)) throw new ParseError('HPE_INVALID_STATUS', 'invalid response status');
    const http10 = data[start + 7] === 0x30;
    let length = -1;
    let chunked = false;
    let close = http10;
    let line = data.indexOf(LF, start) + 1;
    while (line > 0 && line < end) {
      const lineEnd = data.indexOf(LF, line);
      const colon = data.indexOf(0x3a, line);
      if (colon > line && colon < lineEnd) {
        const nameLength = colon - line;
        if (nameLength === 14 && equalsIgnoringCase(data, line, contentLength)) {
          length = parseLength(data, colon + 1, lineEnd);
        } else if (nameLength === 17 && equalsIgnoringCase(data, line, transferEncoding)) {
          chunked = valueText(data, colon + 1, lineEnd).toLowerCase().endsWith('chunked');
        } else if (nameLength === 10 && equalsIgnoringCase(data, line, connection)) {
          const value = valueText(data, colon + 1, lineEnd).toLowerCase();
          if (value.includes('close')) close = true;
          else if (http10 && value.includes('keep-alive')) close = false;
        }
      }
      line = lineEnd + 1;
    }
    this.#status = status;
    this.#closeAfter = close;
    if (status < 200 && status !== 101) {
      // Informational: the final head for the same request follows.
      this.#closeAfter = false;
      return;
    }
    if (status < 200 || status === 204 || status === 304 || this.#sink.nextIsBodyless()) {
      this.#end();
    } else if (chunked) {
      this.#state = State.ChunkSize;
      this.#chunkSize = 0;
    } else if (length >= 0) {
      this.#remaining = length;
      if (length === 0) this.#end();
      else this.#state = State.Body;
    } else {
      this.#state = State.UntilClose;
      this.#closeAfter = true;
    }
  }

  /** Chunk-size lines, the CRLF after chunk data, and trailers: byte by byte, they are short. */
  #chunkFraming(data: Buffer, offset: number): number {
    let index = offset;
    while (index < data.length) {
      const byte = data[index]!;
      index += 1;
      switch (this.#state) {
        case State.ChunkSize:
          if (byte === LF) return this.#chunkSizeDone(index);
          if (byte === 0x3b) this.#state = State.ChunkExtension;
          else if (byte !== CR && byte !== 0x20 && byte !== 0x09) {
            const value = hexDigit(byte);
            if (value < 0) throw new ParseError('HPE_INVALID_CHUNK_SIZE', 'invalid chunk size');
            this.#chunkSize = this.#chunkSize * 16 + value;
          }
          break;
        case State.ChunkExtension:
          if (byte === LF) return this.#chunkSizeDone(index);
          break;
        case State.ChunkDataEnd:
          if (byte === LF) {
            this.#state = State.ChunkSize;
            this.#chunkSize = 0;
            return index;
          }
          break;
        case State.Trailers:
          if (byte === LF) {
            if (this.#lineEmpty) {
              this.#end();
              return index;
            }
            this.#lineEmpty = true;
          } else if (byte !== CR) {
            this.#lineEmpty = false;
          }
          break;
        default:
          return index - 1;
      }
    }
    return index;
  }

  #chunkSizeDone(index: number): number {
    if (this.#chunkSize === 0) {
      this.#state = State.Trailers;
      this.#lineEmpty = true;
    } else {
      this.#state = State.ChunkData;
      this.#remaining = this.#chunkSize;
    }
    return index;
  }

  /** The response ends with the bytes of the current step. */
  #end(): void {
    this.#state = State.Head;
    this.#done = true;
  }
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

function parseLength(data: Buffer, start: number, end: number): number {
  let value = 0;
  let digits = 0;
  for (let index = start; index < end; index += 1) {
    const byte = data[index]!;
    if (byte >= 0x30 && byte <= 0x39) {
      value = value * 10 + (byte - 0x30);
      digits += 1;
    } else if (byte !== 0x20 && byte !== 0x09 && byte !== CR) {
      throw new ParseError('HPE_INVALID_CONTENT_LENGTH', 'invalid content-length');
    }
  }
  if (digits === 0) throw new ParseError('HPE_INVALID_CONTENT_LENGTH', 'empty content-length');
  return value;
}

function valueText(data: Buffer, start: number, end: number): string {
  return data.toString('latin1', start, end).trim();
}
