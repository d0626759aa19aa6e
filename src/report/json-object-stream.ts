const quote = 0x22;
const backslash = 0x5c;
const openBrace = 0x7b;
const closeBrace = 0x7d;
const openBracket = 0x5b;
const closeBracket = 0x5d;
const comma = 0x2c;
const colon = 0x3a;

/** What the top-level structure expects next, outside any member being collected. */
type Expect = 'object' | 'key' | 'colon' | 'value' | 'member-end' | 'element' | 'element-end' | 'end';

/** What the unit being collected becomes once complete. */
type Role = 'key' | 'value' | 'element';

/**
 * Parses one JSON object fed as bytes, chunk by chunk, without ever holding
 * its whole text: each top-level member's value is parsed on its own with
 * `JSON.parse`, and a top-level list element by element. A result file
 * longer than V8's longest string (2^29 − 24 characters: a long run's
 * timeline) reads back this way; only one member or one element must fit
 * in a string. The parsed object equals `JSON.parse` of the whole text.
 *
 * The structure (braces, brackets, colons, commas) is checked byte by byte,
 * every member and element strictly by JSON.parse. Throws SyntaxError on
 * text that is not one JSON object. Not for concurrent use.
 */
export class JsonObjectStream {
  readonly #members: Record<string, unknown> = {};
  #expect: Expect = 'object';
  /** Nothing yet in the current object or list (a closing bracket may come). */
  #empty = true;
  #key = '';
  #list: unknown[] = [];
  #role: Role | undefined;
  #unit: 'string' | 'nested' | 'scalar' = 'scalar';
  #pieces: Buffer[] = [];
  #depth = 0;
  #inString = false;
  #escaped = false;
  /** In the current chunk: the next backslash at or after the scan position (-1: none). */
  #nextBackslash = -1;

  /** Feeds the next bytes. Throws SyntaxError as soon as the text cannot be one JSON object. */
  push(chunk: Buffer): void {
    let start = this.#role === undefined ? -1 : 0;
    this.#nextBackslash = chunk.indexOf(backslash);
    for (let index = 0; index < chunk.length; index += 1) {
      if (this.#role !== undefined) {
        if (this.#inString) {
          index = this.#skipString(chunk, index);
          if (this.#inString || this.#unit !== 'string') continue;
          this.#finish(chunk, start, index + 1);
          start = -1;
          continue;
        }
        const byte = chunk[index]!;
        if (this.#unit === 'nested') {
          if (!this.#nested(byte)) continue;
          this.#finish(chunk, start, index + 1);
          start = -1;
          continue;
        }
        if (!isDelimiter(byte)) continue;
        this.#finish(chunk, start, index);
        start = -1;
      }
      const byte = chunk[index]!;
      if (isWhitespace(byte)) continue;
      if (this.#structure(byte)) start = index;
    }
    if (this.#role !== undefined && start >= 0) this.#pieces.push(chunk.subarray(start));
  }

  /** The parsed object, once the text is complete; throws SyntaxError when it was cut short. */
  end(): Record<string, unknown> {
    if (this.#expect !== 'end' || this.#role !== undefined) throw new SyntaxError('the JSON text ends early');
    return this.#members;
  }

  /**
   * Inside a string: jumps to its closing quote (or the chunk's end) and
   * returns that index; clears #inString when the string closed there.
   */
  #skipString(chunk: Buffer, from: number): number {
    let index = from;
    if (this.#escaped) {
      this.#escaped = false;
      index += 1;
    }
    for (;;) {
      const close = chunk.indexOf(quote, index);
      while (this.#nextBackslash !== -1 && this.#nextBackslash < index) this.#nextBackslash = chunk.indexOf(backslash, index);
      const escape = this.#nextBackslash;
      if (escape !== -1 && (close === -1 || escape < close)) {
        // A backslash escapes the byte after it, which may be in the next chunk.
        if (escape + 1 >= chunk.length) {
          this.#escaped = true;
          return chunk.length;
        }
        index = escape + 2;
        continue;
      }
      if (close === -1) return chunk.length;
      this.#inString = false;
      return close;
    }
  }

  /** One byte of a nested value outside its strings; true when it closed the value. */
  #nested(byte: number): boolean {
    if (byte === quote) this.#inString = true;
    else if (byte === openBrace || byte === openBracket) this.#depth += 1;
    else if (byte === closeBrace || byte === closeBracket) return (this.#depth -= 1) === 0;
    return false;
  }

  /** One structural byte of the top-level object or list; true when it opened a unit. */
  #structure(byte: number): boolean {
    switch (this.#expect) {
      case 'object':
        return this.#expectByte(byte === openBrace, 'key');
      case 'key':
        if (byte === closeBrace && this.#empty) return this.#expectByte(true, 'end');
        return byte === quote ? this.#open(byte, 'key') : fail();
      case 'colon':
        return this.#expectByte(byte === colon, 'value');
      case 'value':
        if (byte !== openBracket) return this.#open(byte, 'value');
        this.#list = [];
        return this.#expectByte(true, 'element');
      case 'member-end':
        if (byte === closeBrace) return this.#expectByte(true, 'end');
        return this.#expectByte(byte === comma, 'key', false);
      case 'element':
        if (byte === closeBracket && this.#empty) return this.#closeList();
        return this.#open(byte, 'element');
      case 'element-end':
        if (byte === closeBracket) return this.#closeList();
        return this.#expectByte(byte === comma, 'element', false);
      case 'end':
        return fail();
    }
  }

  #expectByte(ok: boolean, next: Expect, empty = true): false {
    if (!ok) fail();
    this.#expect = next;
    this.#empty = empty;
    return false;
  }

  #closeList(): false {
    this.#set(this.#list);
    this.#list = [];
    return this.#expectByte(true, 'member-end');
  }

  #open(byte: number, role: Role): true {
    if (byte === quote) {
      this.#unit = 'string';
      this.#inString = true;
    } else if (byte === openBrace || byte === openBracket) {
      this.#unit = 'nested';
      this.#depth = 1;
    } else if (byte === 0x2d || (byte >= 0x30 && byte <= 0x39) || byte === 0x74 || byte === 0x66 || byte === 0x6e) {
      this.#unit = 'scalar';
    } else {
      fail();
    }
    this.#role = role;
    return true;
  }

  #finish(chunk: Buffer, start: number, end: number): void {
    this.#pieces.push(chunk.subarray(start, end));
    const text = Buffer.concat(this.#pieces).toString('utf8');
    this.#pieces = [];
    const value = JSON.parse(text) as unknown;
    const role = this.#role;
    this.#role = undefined;
    if (role === 'key') {
      this.#key = value as string;
      this.#expect = 'colon';
    } else if (role === 'value') {
      this.#set(value);
      this.#expect = 'member-end';
    } else {
      this.#list.push(value);
      this.#expect = 'element-end';
    }
  }

  /** As JSON.parse does: an own property, even for "__proto__". */
  #set(value: unknown): void {
    Object.defineProperty(this.#members, this.#key, { value, enumerable: true, writable: true, configurable: true });
  }
}

function fail(): never {
  throw new SyntaxError('not one JSON object');
}

function isWhitespace(byte: number): boolean {
  return byte === 0x20 || byte === 0x0a || byte === 0x0d || byte === 0x09;
}

function isDelimiter(byte: number): boolean {
  return isWhitespace(byte) || byte === comma || byte === closeBrace || byte === closeBracket;
}
