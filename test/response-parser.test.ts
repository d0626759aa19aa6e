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

  response(status: number, bytes: number): void {
    this.responses.push([status, bytes]);
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
  assert.equal(parser.execute(Buffer.from('HTTP/1.0 200 OK\r\n\r\nsome body')), true);
  assert.deepEqual(collector.responses, []);
  assert.equal(parser.finish(), false);
  assert.deepEqual(collector.responses, [[200, 'HTTP/1.0 200 OK\r\n\r\nsome body'.length]]);

  const closing = new Collector();
  const closingParser = new ResponseParser(closing);
  const closingText = 'HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Length: 2\r\n\r\nhi';
  assert.equal(closingParser.execute(Buffer.from(closingText)), false);
  assert.deepEqual(closing.responses, [[200, closingText.length]]);

  const keptAlive = new ResponseParser(new Collector());
  assert.equal(keptAlive.execute(Buffer.from('HTTP/1.0 200 OK\r\nConnection: keep-alive\r\nContent-Length: 2\r\n\r\nhi')), true);
});

test('a response cut short by the close is reported as cut', () => {
  const parser = new ResponseParser(new Collector());
  parser.execute(Buffer.from('HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nhal'));
  assert.equal(parser.finish(), true);
  const idle = new ResponseParser(new Collector());
  idle.execute(Buffer.from(ok));
  assert.equal(idle.finish(), false);
});

test('malformed responses throw ParseErrors with llhttp-style codes', () => {
  const cases: [string, string][] = [
    ['SSH-2.0-OpenSSH_9.0\r\n\r\n', 'HPE_INVALID_CONSTANT'],
    ['HTTP/1.1 2x0 OK\r\n\r\n', 'HPE_INVALID_STATUS'],
    ['HTTP/1.1 200 OK\r\nContent-Length: 12a\r\n\r\n', 'HPE_INVALID_CONTENT_LENGTH'],
    ['HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n', 'HPE_INVALID_CHUNK_SIZE'],
  ];
  for (const [text, code] of cases) {
    assert.throws(() => new ResponseParser(new Collector()).execute(Buffer.from(text)), (error: unknown) => error instanceof ParseError && error.code === code, code);
  }
  const huge = `HTTP/1.1 200 OK\r\nX-Big: ${'a'.repeat(70 * 1024)}`;
  assert.throws(() => new ResponseParser(new Collector()).execute(Buffer.from(huge)), (error: unknown) => error instanceof ParseError && error.code === 'HPE_HEADER_OVERFLOW');
});
