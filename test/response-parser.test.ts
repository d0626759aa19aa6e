import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ParseError, ResponseParser, type ResponseSink } from '../src/protocols/http/response-parser.js';

/** Collects responses; `bodyless` answers nextIsBodyless (a HEAD in flight). */
class Collector implements ResponseSink {
  readonly responses: [number, number][] = [];
  bodyless = false;

  nextIsBodyless(): boolean {
    return this.bodyless;
  }

  response(status: number, bytes: number): boolean {
    this.responses.push([status, bytes]);
    return true;
  }
}

/** Feeds `text` cut at every possible place (1..n pieces) and checks the result is always the same. */
function parseEverySplit(text: string, setup: (collector: Collector) => void = () => undefined): [number, number][] {
  const bytes = Buffer.from(text, 'latin1');
  const whole = new Collector();
  setup(whole);
  new ResponseParser(whole).execute(bytes);
  for (let cut = 1; cut < bytes.length; cut += 1) {
    const collector = new Collector();
    setup(collector);
    const parser = new ResponseParser(collector);
    parser.execute(bytes.subarray(0, cut));
    parser.execute(bytes.subarray(cut));
    assert.deepEqual(collector.responses, whole.responses, `split at ${cut}`);
  }
  const byteByByte = new Collector();
  setup(byteByByte);
  const parser = new ResponseParser(byteByByte);
  for (let index = 0; index < bytes.length; index += 1) parser.execute(bytes.subarray(index, index + 1));
  assert.deepEqual(byteByByte.responses, whole.responses, 'byte by byte');
  return whole.responses;
}

const ok = 'HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 5\r\n\r\nhello';

test('content-length responses, one or several per read (pipelining), count their wire bytes', () => {
  assert.deepEqual(parseEverySplit(ok), [[200, ok.length]]);
  const three = ok + ok.replace('200 OK', '404 Not Found') + ok;
  assert.deepEqual(parseEverySplit(three), [[200, ok.length], [404, ok.length + 7], [200, ok.length]]);
});

test('header names match in any case; a zero length completes at once', () => {
  const text = 'HTTP/1.1 503 Service Unavailable\r\ncOnTeNt-LeNgTh:   0  \r\n\r\n';
  assert.deepEqual(parseEverySplit(text + text), [[503, text.length], [503, text.length]]);
});

test('chunked bodies with extensions and trailers', () => {
  const text = 'HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5;name=value\r\nhello\r\nA\r\n0123456789\r\n0\r\nX-Trailer: yes\r\n\r\n';
  assert.deepEqual(parseEverySplit(text + ok), [[200, text.length], [200, ok.length]]);
  const bare = 'HTTP/1.1 200 OK\r\ntransfer-encoding: gzip, chunked\r\n\r\n0\r\n\r\n';
  assert.deepEqual(parseEverySplit(bare), [[200, bare.length]]);
});

test('no body for HEAD, 204 and 304, whatever content-length says; 1xx heads are skipped', () => {
  const head = 'HTTP/1.1 200 OK\r\nContent-Length: 1000\r\n\r\n';
  assert.deepEqual(parseEverySplit(head, (collector) => {
    collector.bodyless = true;
  }), [[200, head.length]]);
  const noContent = 'HTTP/1.1 204 No Content\r\nContent-Length: 10\r\n\r\n';
  const notModified = 'HTTP/1.1 304 Not Modified\r\n\r\n';
  assert.deepEqual(parseEverySplit(noContent + notModified), [[204, noContent.length], [304, notModified.length]]);
  const informational = 'HTTP/1.1 100 Continue\r\n\r\n';
  assert.deepEqual(parseEverySplit(informational + ok), [[200, informational.length + ok.length]]);
});

test('a body without length runs until the server closes; connection: close stops reuse', () => {
  const collector = new Collector();
  const parser = new ResponseParser(collector);
  parser.execute(Buffer.from('HTTP/1.0 200 OK\r\n\r\nsome body'));
  assert.deepEqual(collector.responses, []);
  assert.equal(parser.finishAtClose(), 'HTTP/1.0 200 OK\r\n\r\nsome body'.length);
  assert.equal(parser.status, 200);

  const closing = new Collector();
  const closingParser = new ResponseParser(closing);
  const closingText = 'HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Length: 2\r\n\r\nhi';
  closingParser.execute(Buffer.from(closingText + closingText));
  assert.deepEqual(closing.responses, [[200, closingText.length]], 'nothing is read after a response that closes');
  assert.equal(closingParser.closeAfter, true);

  const keptAlive = new ResponseParser(new Collector());
  keptAlive.execute(Buffer.from('HTTP/1.0 200 OK\r\nConnection: keep-alive\r\nContent-Length: 2\r\n\r\nhi'));
  assert.equal(keptAlive.closeAfter, false);
  const http10 = new ResponseParser(new Collector());
  http10.execute(Buffer.from('HTTP/1.0 200 OK\r\nContent-Length: 2\r\n\r\nhi'));
  assert.equal(http10.closeAfter, true);
});

test('a response cut short by the close is not completed by it', () => {
  const parser = new ResponseParser(new Collector());
  parser.execute(Buffer.from('HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nhal'));
  assert.equal(parser.inResponse, true);
  assert.equal(parser.finishAtClose(), -1);
  const idle = new ResponseParser(new Collector());
  idle.execute(Buffer.from(ok));
  assert.equal(idle.inResponse, false);
  assert.equal(idle.finishAtClose(), -1);
});

test('bare LF line endings are accepted in heads, chunk-size lines and trailers (RFC 9112 §2.2), not after chunk data', () => {
  const text = 'HTTP/1.1 200 OK\nContent-Length: 2\n\nhi';
  assert.deepEqual(parseEverySplit(text), [[200, text.length]]);
  const chunked = 'HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n2\nhi\r\n0\nX-T: 1\n\n';
  assert.deepEqual(parseEverySplit(chunked), [[200, chunked.length]]);
  // A chunk size one too large swallows the CR: a bare LF after chunk data is refused, as llhttp does.
  assert.throws(() => new ResponseParser(new Collector()).execute(Buffer.from('HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nok\r\n0\r\n\r\n')), (error: unknown) => error instanceof ParseError && error.code === 'HPE_STRICT');
});

test('empty lines around responses are skipped; connection tokens match whole; proxy-connection counts', () => {
  assert.deepEqual(parseEverySplit(`\r\n${ok}\r\n`), [[200, ok.length + 2]]);
  const tokenOnly = new ResponseParser(new Collector());
  tokenOnly.execute(Buffer.from('HTTP/1.1 200 OK\r\nConnection: x-closer, keep-alive\r\nContent-Length: 0\r\n\r\n'));
  assert.equal(tokenOnly.closeAfter, false);
  const proxy = new ResponseParser(new Collector());
  proxy.execute(Buffer.from('HTTP/1.1 200 OK\r\nProxy-Connection: close\r\nContent-Length: 0\r\n\r\n'));
  assert.equal(proxy.closeAfter, true);
});

test('statuses 100-999 keep their code; the sink sees whether more bytes follow in the read', () => {
  const weird = 'HTTP/1.1 999 Odd\r\nContent-Length: 0\r\n\r\n';
  assert.deepEqual(parseEverySplit(weird), [[999, weird.length]]);
  const seen: boolean[] = [];
  const parser = new ResponseParser({ nextIsBodyless: () => false, response: (_status, _bytes, more) => seen.push(more) > 0 });
  parser.execute(Buffer.from(ok + ok));
  assert.deepEqual(seen, [true, false]);
  const stopping = new ResponseParser({ nextIsBodyless: () => false, response: () => false });
  // A sink that retires the connection stops the read: the garbage after is never parsed (it would throw).
  assert.doesNotThrow(() => stopping.execute(Buffer.from(ok + 'garbage')));
});

test('one head limit of 64 KiB however the head is split', () => {
  const big = `HTTP/1.1 200 OK\r\nX-Big: ${'a'.repeat(60 * 1024)}\r\nContent-Length: 0\r\n\r\n`;
  assert.deepEqual(parseEverySplitSampled(big), [[200, big.length]]);
  const huge = `HTTP/1.1 200 OK\r\nX-Big: ${'a'.repeat(65 * 1024)}\r\nContent-Length: 0\r\n\r\n`;
  for (const cut of [0, 10, 1000, 40_000, huge.length - 2]) {
    const parser = new ResponseParser(new Collector());
    assert.throws(() => {
      if (cut > 0) parser.execute(Buffer.from(huge.slice(0, cut)));
      parser.execute(Buffer.from(huge.slice(cut)));
    }, (error: unknown) => error instanceof ParseError && error.code === 'HPE_HEADER_OVERFLOW', `cut at ${cut}`);
  }
});

/** Like parseEverySplit for long texts: a sample of cuts, and 1-byte reads. */
function parseEverySplitSampled(text: string): [number, number][] {
  const bytes = Buffer.from(text, 'latin1');
  const whole = new Collector();
  new ResponseParser(whole).execute(bytes);
  for (const cut of [1, 17, 1024, bytes.length >> 1, bytes.length - 3, bytes.length - 1]) {
    const collector = new Collector();
    const parser = new ResponseParser(collector);
    parser.execute(bytes.subarray(0, cut));
    parser.execute(bytes.subarray(cut));
    assert.deepEqual(collector.responses, whole.responses, `split at ${cut}`);
  }
  const trickle = new Collector();
  const parser = new ResponseParser(trickle);
  for (let index = 0; index < bytes.length; index += 1) parser.execute(bytes.subarray(index, index + 1));
  assert.deepEqual(trickle.responses, whole.responses, 'byte by byte');
  return whole.responses;
}

test('malformed responses throw ParseErrors with llhttp-style codes', () => {
  const cases: [string, string][] = [
    ['SSH-2.0-OpenSSH_9.0\r\n\r\n', 'HPE_INVALID_CONSTANT'],
    ['HTPT/1.1 200 OK\r\n\r\n', 'HPE_INVALID_CONSTANT'],
    ['HTTP/2.0 200 OK\r\n\r\n', 'HPE_INVALID_VERSION'],
    ['HTTP/1.1 2x0 OK\r\n\r\n', 'HPE_INVALID_STATUS'],
    ['HTTP/1.1 2000 OK\r\n\r\n', 'HPE_INVALID_STATUS'],
    ['HTTP/1.1 20 OK\r\n\r\n', 'HPE_INVALID_STATUS'],
    ['HTTP/1.1 099 Low\r\n\r\n', 'HPE_INVALID_STATUS'],
    ['HTTP/1.1 200 OK\r\nno colon here\r\n\r\n', 'HPE_INVALID_HEADER_TOKEN'],
    ['HTTP/1.1 200 OK\r\nName : value\r\n\r\n', 'HPE_INVALID_HEADER_TOKEN'],
    ['HTTP/1.1 200 OK\r\nA: b\r\n folded\r\n\r\n', 'HPE_INVALID_HEADER_TOKEN'],
    ['HTTP/1.1 200 OK\r\nContent-Length: 12a\r\n\r\n', 'HPE_INVALID_CONTENT_LENGTH'],
    ['HTTP/1.1 200 OK\r\nContent-Length: 1 2\r\n\r\n', 'HPE_INVALID_CONTENT_LENGTH'],
    ['HTTP/1.1 200 OK\r\nContent-Length: +5\r\n\r\n', 'HPE_INVALID_CONTENT_LENGTH'],
    [`HTTP/1.1 200 OK\r\nContent-Length: ${'9'.repeat(30)}\r\n\r\n`, 'HPE_INVALID_CONTENT_LENGTH'],
    ['HTTP/1.1 200 OK\r\nContent-Length: 5\r\nContent-Length: 6\r\n\r\n', 'HPE_UNEXPECTED_CONTENT_LENGTH'],
    ['HTTP/1.1 200 OK\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n', 'HPE_UNEXPECTED_CONTENT_LENGTH'],
    ['HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n', 'HPE_INVALID_CHUNK_SIZE'],
    ['HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n\r\n', 'HPE_INVALID_CHUNK_SIZE'],
    ['HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n1 0\r\n', 'HPE_INVALID_CHUNK_SIZE'],
    [`HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n${'f'.repeat(20)}\r\n`, 'HPE_INVALID_CHUNK_SIZE'],
    ['HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nhiX\r\n', 'HPE_STRICT'],
    ['HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n2  \r\nhi\r\n', 'HPE_INVALID_CHUNK_SIZE'],
    ['HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n2;\r\nhi\r\n', 'HPE_STRICT'],
    ['HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n2;a="b\r\nhi\r\n', 'HPE_STRICT'],
    ['HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n0\r\nno colon\r\n\r\n', 'HPE_INVALID_HEADER_TOKEN'],
    ['HTTP/1.1 200 OK\rContent-Length: 2\r\n\r\nok', 'HPE_LF_EXPECTED'],
    ['HTTP/1.1 101 Switching Protocols\r\nUpgrade: h2c\r\n\r\n', 'HPE_UNEXPECTED_UPGRADE'],
  ];
  for (const [text, code] of cases) {
    assert.throws(() => new ResponseParser(new Collector()).execute(Buffer.from(text)), (error: unknown) => error instanceof ParseError && error.code === code, code);
  }
});
