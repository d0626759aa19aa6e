/**
 * Named response edge cases: the ones spear's issue lists, and more learned
 * from llhttp's own response corpus (test/response/*.md: status lines,
 * versions, bare CR/LF, chunk extensions, transfer-coding lists, 1xx, 304).
 * A case has `truth` only when the whole stream is well formed (RFC 9112)
 * and every correct client must give the same answer; a well-formed first
 * response followed by bytes nobody asked for has `ifResponse` instead; the
 * rest are judged only by agreement with node. Large cases (heads over 64 KiB) are built here at run
 * time, never stored.
 */
import { makeCase, type Prng, type ResponseCase, type Truth } from './response-primitives.js';

/** A response from CRLF-joined head lines and a body. */
function crlf(lines: readonly string[], body = ''): string {
  return `${lines.join('\r\n')}\r\n\r\n${body}`;
}

/** The same with bare LF line endings. */
function lf(lines: readonly string[], body = ''): string {
  return `${lines.join('\n')}\n\n${body}`;
}

function truth(status: number, bodyLength: number, wire: string | number): Truth {
  return { status, bodyLength, wireBytes: typeof wire === 'number' ? wire : Buffer.byteLength(wire, 'latin1') };
}

const ok2 = crlf(['HTTP/1.1 200 OK', 'Content-Length: 2'], 'ok');
const accepted = crlf(['HTTP/1.1 202 Accepted', 'Content-Length: 0']);
const chunkedHead = ['HTTP/1.1 200 OK', 'Transfer-Encoding: chunked'];

/** A response with `count` headers of `valueLength` bytes each and a 2-byte body. */
function bigHead(count: number, valueLength: number, last = 0): string {
  const lines = ['HTTP/1.1 200 OK'];
  for (let index = 0; index < count; index += 1) lines.push(`X-${String(index).padStart(4, '0')}: ${'v'.repeat(index === count - 1 && last > 0 ? last : valueLength)}`);
  lines.push('Content-Length: 2');
  return crlf(lines, 'ok');
}

/**
 * A response with a 2-byte body whose head is exactly `wire` bytes, or whose
 * head has exactly `nodeCount` bytes by node's count (reason + names +
 * values: what node:http holds against maxHeaderSize).
 */
function headOfSize(size: { wire: number } | { nodeCount: number }): string {
  // "HTTP/1.1 200 OK\r\n" (17) + "X-Fill: " (8) + value + "\r\n" (2) + "Content-Length: 2\r\n\r\n" (21) + "ok"
  const fixedWire = 17 + 8 + 2 + 21;
  const fixedNode = 2 + 6 + 14 + 1; // "OK", "X-Fill", "Content-Length", "2"
  const value = 'wire' in size ? size.wire - fixedWire : size.nodeCount - fixedNode;
  return crlf(['HTTP/1.1 200 OK', `X-Fill: ${'f'.repeat(value)}`, 'Content-Length: 2'], 'ok');
}

/** Every named case. `rng` draws their write splits. */
export function edgeCases(rng: Prng): ResponseCase[] {
  const cases: ResponseCase[] = [];
  const add = (name: string, bytes: string, options: Parameters<typeof makeCase>[3] = {}): void => {
    cases.push(makeCase(rng, name, bytes, options));
  };
  /** A well-formed case; `reusable` (when given) is whether the connection must carry the next request. */
  const good = (name: string, status: number, bodyLength: number, bytes: string, options: Parameters<typeof makeCase>[3] = {}, reusable?: boolean): void => {
    add(name, bytes, { truth: { ...truth(status, bodyLength, bytes), ...(reusable === undefined ? {} : { reusable }) }, ...options });
  };

  // Close-delimited bodies and connection management.
  good('close-delimited-body-http11', 200, 11, crlf(['HTTP/1.1 200 OK', 'Content-Type: text/plain'], 'hello world'), { afterWrite: 'close' });
  good('close-delimited-body-http10', 200, 1000, crlf(['HTTP/1.0 200 OK', 'Server: x'], 'b'.repeat(1000)), { afterWrite: 'close' });
  good('close-delimited-body-http10-keep-alive-no-length', 200, 15, crlf(['HTTP/1.0 200 OK', 'Connection: keep-alive'], 'HTTP/1.0 200 OK'), { afterWrite: 'close' });
  good('close-delimited-body-looks-like-a-response', 200, ok2.length, crlf(['HTTP/1.1 200 OK'], ok2), { afterWrite: 'close' });
  good('close-delimited-body-empty', 200, 0, crlf(['HTTP/1.1 200 OK', 'Server: x']), { afterWrite: 'close' });
  add('close-delimited-body-server-keeps-connection', crlf(['HTTP/1.1 200 OK'], 'never ends'));
  good('connection-close-server-keeps-connection', 200, 2, crlf(['HTTP/1.1 200 OK', 'Connection: close', 'Content-Length: 2'], 'ok'), {}, false);
  good('connection-close-chunked', 200, 2, crlf([...chunkedHead, 'Connection: close'], '2\r\nok\r\n0\r\n\r\n'), { afterWrite: 'close' });
  good('connection-keep-alive-close-list', 200, 2, crlf(['HTTP/1.1 200 OK', 'Connection: keep-alive, close', 'Content-Length: 2'], 'ok'), {}, false);
  good('connection-headers-keep-alive-then-close', 200, 2, crlf(['HTTP/1.1 200 OK', 'Connection: keep-alive', 'Connection: close', 'Content-Length: 2'], 'ok'), {}, false);
  good('connection-token-containing-close', 200, 2, crlf(['HTTP/1.1 200 OK', 'Connection: x-closer', 'Content-Length: 2'], 'ok'), {}, true);
  // llhttp takes Proxy-Connection for Connection (legacy); RFC 9110 knows no such field: reuse is not asserted.
  good('proxy-connection-close-is-not-connection', 200, 11, crlf(['HTTP/1.1 200 OK', 'Proxy-Connection: close', 'Content-Length: 11'], 'hello world'));
  good('http10-content-length-no-keep-alive', 200, 2, crlf(['HTTP/1.0 200 OK', 'Content-Length: 2'], 'ok'), {}, false);
  good('http10-keep-alive-content-length', 200, 2, crlf(['HTTP/1.0 200 OK', 'Connection: keep-alive', 'Content-Length: 2'], 'ok'), {}, true);
  good('http10-keep-alive-204', 204, 0, crlf(['HTTP/1.0 204 No content', 'Connection: keep-alive']), {}, true);
  good('http11-204-no-framing', 204, 0, crlf(['HTTP/1.1 204 No content']), {}, true);
  add('http11-204-with-content-length', crlf(['HTTP/1.1 204 No content', 'Content-Length: 2']));
  good('http11-304-with-content-length', 304, 0, crlf(['HTTP/1.1 304 Not Modified', 'Content-Length: 10']), {}, true);
  add('http11-304-with-transfer-encoding', crlf(['HTTP/1.1 304 Not Modified', 'Transfer-Encoding: chunked']));
  good('head-response-content-length', 200, 0, crlf(['HTTP/1.1 200 OK', 'Content-Length: 123']), { method: 'HEAD' }, true);
  good('head-response-chunked', 200, 0, crlf(chunkedHead), { method: 'HEAD' }, true);
  good('head-response-close-delimited-server-keeps', 200, 0, crlf(['HTTP/1.1 200 OK', 'Server: x']), { method: 'HEAD' }, true);

  // Interim responses.
  const continue404 = crlf(['HTTP/1.1 100 Continue']) + crlf(['HTTP/1.1 404 Not Found', 'Content-Type: text/plain; charset=utf-8', 'Content-Length: 14'], '404: Not Found');
  good('interim-100-then-404', 404, 14, continue404, {}, true);
  const hints200 = crlf(['HTTP/1.1 103 Early Hints', 'Link: </styles.css>; rel=preload; as=style']) + crlf(['HTTP/1.1 200 OK', 'Connection: keep-alive', 'Keep-Alive: timeout=5', 'Content-Length: 17'], 'response content\n');
  good('interim-103-then-200', 200, 17, hints200, {}, true);
  good('interim-100-split-from-final', 200, 2, crlf(['HTTP/1.1 100 Continue']) + ok2, { splits: [25], pauseMs: 20 }, true);
  add('interim-101-unrequested-upgrade', crlf(['HTTP/1.1 101 Switching Protocols', 'Connection: upgrade', 'Upgrade: h2c']));
  add('upgrade-header-on-200-with-length', crlf(['HTTP/1.1 200 OK', 'Connection: upgrade', 'Upgrade: h2c', 'Content-Length: 4'], 'body'));

  // Bytes after a complete response.
  add('unsolicited-second-response-same-write', ok2 + accepted, { ifResponse: truth(200, 2, ok2), splitBefore: ok2.length });
  add('unsolicited-second-response-later-write', ok2 + accepted, { ifResponse: truth(200, 2, ok2), splits: [ok2.length], pauseMs: 30 });
  const first3 = crlf(['HTTP/1.1 200 OK', 'Content-Length: 3'], 'AAA');
  const three = first3 + crlf(['HTTP/1.1 201 Created', 'Content-Length: 4'], 'BBBB') + crlf(['HTTP/1.1 202 Accepted', 'Content-Length: 5'], 'CCCCC');
  add('pipelined-three-responses-for-one-request', three, { ifResponse: truth(200, 3, first3), splitBefore: first3.length });
  const first = truth(200, 2, ok2);
  add('garbage-after-response-same-write', `${ok2}garbage\r\n\r\n`, { ifResponse: first, splitBefore: ok2.length });
  add('garbage-after-response-later-write', `${ok2}garbage\r\n\r\n`, { ifResponse: first, splits: [ok2.length], pauseMs: 30 });
  add('garbage-after-response-then-close', `${ok2}garbage`, { ifResponse: first, splitBefore: ok2.length, afterWrite: 'close' });
  add('content-length-shorter-than-body', `${ok2}ay`, { ifResponse: first, splitBefore: ok2.length });
  add('crlf-after-response-same-write', `${ok2}\r\n`, { ifResponse: first, splitBefore: ok2.length });
  const closing = crlf(['HTTP/1.1 200 No content', 'Content-Length: 5', 'Connection: close'], 'hello');
  add('data-after-connection-close-response', `${closing}2ad731e3-4dcd-4f70`, { ifResponse: truth(200, 5, closing), splitBefore: closing.length, afterWrite: 'close' });

  // Status lines.
  add('status-line-htpt', crlf(['HTPT/1.1 200 OK', 'Content-Length: 2'], 'ok'));
  add('status-line-lowercase-http', crlf(['http/1.1 200 OK', 'Content-Length: 2'], 'ok'));
  add('status-line-httper', crlf(['HTTPER/1.1 200 OK', 'Content-Length: 2'], 'ok'));
  add('status-line-rtsp', crlf(['RTSP/1.1 200 OK', 'Content-Length: 2'], 'ok'));
  add('status-line-ice', crlf(['ICE/1.1 200 OK', 'Content-Length: 2'], 'ok'));
  add('status-2000', crlf(['HTTP/1.1 2000 OK', 'Content-Length: 2'], 'ok'));
  add('status-20', crlf(['HTTP/1.1 20 OK', 'Content-Length: 2'], 'ok'));
  add('status-2', crlf(['HTTP/1.1 2 OK', 'Content-Length: 2'], 'ok'));
  add('status-with-letter', crlf(['HTTP/1.1 2x0 OK', 'Content-Length: 2'], 'ok'));
  add('status-099', crlf(['HTTP/1.1 099 Low', 'Content-Length: 2'], 'ok'));
  add('version-http-2.0', crlf(['HTTP/2.0 200', 'Content-Length: 2'], 'ok'));
  add('version-http-01.1', crlf(['HTTP/01.1 200 OK', 'Content-Length: 2'], 'ok'));
  add('version-http-11.1', crlf(['HTTP/11.1 200 OK', 'Content-Length: 2'], 'ok'));
  add('version-http-1.01', crlf(['HTTP/1.01 200 OK', 'Content-Length: 2'], 'ok'));
  add('version-http-5.6', crlf(['HTTP/5.6 200 OK', 'Content-Length: 2'], 'ok'));
  add('version-http-0.9', crlf(['HTTP/0.9 200 OK', 'Content-Length: 2'], 'ok'));
  add('version-http-1.2', crlf(['HTTP/1.2 200 OK', 'Content-Length: 2'], 'ok'));
  add('status-line-tab-after-version', crlf(['HTTP/1.1\t200 OK', 'Content-Length: 2'], 'ok'));
  add('status-line-two-spaces-before-status', crlf(['HTTP/1.1  200 OK', 'Content-Length: 2'], 'ok'));
  add('status-line-no-space-no-reason', crlf(['HTTP/1.1 301', 'Content-Length: 0']));
  good('status-line-empty-reason', 200, 2, crlf(['HTTP/1.1 200 ', 'Content-Length: 2'], 'ok'));
  good('status-line-two-spaces-before-reason', 200, 2, crlf(['HTTP/1.1 200  OK', 'Content-Length: 2'], 'ok'));
  good('status-line-non-ascii-reason', 500, 0, crlf(['HTTP/1.1 500 Oriëntatieprobleem', 'Content-Length: 0']));
  add('status-line-leading-crlf', `\r\n${ok2}`);
  add('status-line-bare-cr', 'HTTP/1.1 200 OK\rContent-Length: 2\r\n\r\nok');
  add('status-line-cr-cr', 'HTTP/1.1 200 OK\r\rContent-Length: 4\r\n\r\nEvil');

  // Header lines.
  add('header-without-colon', crlf(['HTTP/1.1 200 OK', 'NoColonHere', 'Content-Length: 2'], 'ok'));
  add('header-space-before-colon-content-length', crlf(['HTTP/1.1 200 OK', 'Content-Length : 2'], 'ok'));
  add('header-space-before-colon-other', crlf(['HTTP/1.1 200 OK', 'X-Foo : bar', 'Content-Length: 2'], 'ok'));
  add('header-name-with-space', crlf(['HTTP/1.1 200 OK', 'en-US Content-Type: text/xml', 'Content-Length: 2'], 'ok'));
  add('header-nul-in-value', crlf(['HTTP/1.1 200 OK', 'X-Foo: a\0b', 'Content-Length: 2'], 'ok'));
  add('header-del-in-value', crlf(['HTTP/1.1 200 OK', 'X-Foo: a\x7fb', 'Content-Length: 2'], 'ok'));
  add('header-bare-cr-between-headers', crlf(['HTTP/1.1 200 OK', 'Foo: 1\rBar: 2', 'Content-Length: 2'], 'ok'));
  add('header-obs-fold', crlf(['HTTP/1.1 200 OK', 'X-Folded: a', '  b', 'Content-Length: 2'], 'ok'));
  add('header-obs-fold-tab', crlf(['HTTP/1.1 200 OK', 'X-Folded: a', '\tb', 'Content-Length: 2'], 'ok'));
  add('header-obs-fold-after-transfer-encoding', crlf([...chunkedHead, '  abc'], '5\r\nWorld\r\n0\r\n\r\n'));
  add('header-obs-fold-content-length', crlf(['HTTP/1.1 200 OK', 'Content-Length:', ' 2'], 'ok'));
  add('header-first-line-starts-with-space', crlf(['HTTP/1.1 200 OK', ' Host: foo', 'Content-Length: 2'], 'ok'));
  good('header-tchar-names', 200, 0, crlf(['HTTP/1.1 200 OK', 'DCLK_imp: v7;x;114750856', 'X-$PrototypeBI-Version: 1.6.0.3', ".et-Cookie: a=b", "_eep-Alive: timeout=45", 'Content-Length: 0']));
  good('header-empty-value', 200, 2, crlf(['HTTP/1.1 200 OK', 'Pragma:', 'Cache-Control: ', 'Content-Length: 2'], 'ok'));
  good('header-obs-text-value', 200, 2, crlf(['HTTP/1.1 200 OK', 'X-Latin: caf\xe9 \xff\x80', 'Content-Length: 2'], 'ok'));
  good('header-content-length-x-is-not-content-length', 200, 2, crlf(['HTTP/1.1 200 OK', 'Content-Length-X: 0', 'Transfer-Encoding: chunked'], '2\r\nOK\r\n0\r\n\r\n'));
  good('header-x-content-length-is-not-content-length', 200, 2, crlf(['HTTP/1.1 200 OK', 'X-Content-Length: 99', 'Content-Length: 2'], 'ok'));
  good('header-transfer-encoding-x-is-not-transfer-encoding', 200, 2, crlf(['HTTP/1.1 200 OK', 'Transfer-Encoding-X: chunked', 'Content-Length: 2'], 'ok'));

  // Content-Length.
  add('content-length-two-different', crlf(['HTTP/1.1 200 OK', 'Content-Length: 2', 'Content-Length: 3'], 'ok!'));
  add('content-length-two-equal', crlf(['HTTP/1.1 200 OK', 'Content-Length: 2', 'Content-Length: 2'], 'ok'));
  add('content-length-list-equal', crlf(['HTTP/1.1 200 OK', 'Content-Length: 2, 2'], 'ok'));
  add('content-length-plus-sign', crlf(['HTTP/1.1 200 OK', 'Content-Length: +2'], 'ok'));
  add('content-length-minus-sign', crlf(['HTTP/1.1 200 OK', 'Content-Length: -2'], 'ok'));
  add('content-length-letters', crlf(['HTTP/1.1 200 OK', 'Content-Length: abc'], 'ok'));
  add('content-length-digits-then-letters', crlf(['HTTP/1.1 200 OK', 'Content-Length: 2abc'], 'ok'));
  add('content-length-hex', crlf(['HTTP/1.1 200 OK', 'Content-Length: 0x2'], 'ok'));
  add('content-length-empty', crlf(['HTTP/1.1 200 OK', 'Content-Length: '], 'ok'));
  add('content-length-space-inside', crlf(['HTTP/1.1 200 OK', 'Content-Length: 1 0'], 'ok0123456789'));
  add('content-length-overflow-30-digits', crlf(['HTTP/1.1 200 OK', `Content-Length: ${'9'.repeat(30)}`], 'ok'));
  add('content-length-2^64', crlf(['HTTP/1.1 200 OK', 'Content-Length: 18446744073709551616'], 'ok'));
  add('content-length-2^53', crlf(['HTTP/1.1 200 OK', 'Content-Length: 9007199254740992'], 'ok'));
  add('content-length-2^53-minus-1', crlf(['HTTP/1.1 200 OK', 'Content-Length: 9007199254740991'], 'ok'));
  add('content-length-and-transfer-encoding-chunked', crlf(['HTTP/1.1 200 OK', 'Content-Length: 10', 'Transfer-Encoding: chunked'], '2\r\nok\r\n0\r\n\r\n'));
  add('transfer-encoding-chunked-and-content-length', crlf(['HTTP/1.1 200 OK', 'Transfer-Encoding: chunked', 'Content-Length: 10'], '2\r\nok\r\n0\r\n\r\n'));
  good('content-length-trailing-tab', 200, 2, crlf(['HTTP/1.1 200 OK', 'Content-Length: 2\t'], 'ok'), {}, true);
  good('transfer-encoding-chunked-trailing-tab', 200, 2, crlf(['HTTP/1.1 200 OK', 'Transfer-Encoding: chunked\t'], '2\r\nok\r\n0\r\n\r\n'), {}, true);
  good('connection-close-trailing-tab', 200, 2, crlf(['HTTP/1.1 200 OK', 'Connection: close\t', 'Content-Length: 2'], 'ok'), {}, false);
  good('connection-keep-alive-trailing-tab-http10', 200, 2, crlf(['HTTP/1.0 200 OK', 'Connection: keep-alive\t', 'Content-Length: 2'], 'ok'), {}, true);
  good('content-length-tabs-around', 200, 2, crlf(['HTTP/1.1 200 OK', 'Content-Length:\t2\t'], 'ok'), {}, true);
  good('content-length-spaces-around', 200, 2, crlf(['HTTP/1.1 200 OK', 'Content-Length:   2   '], 'ok'), {}, true);
  good('content-length-leading-zeros', 200, 2, crlf(['HTTP/1.1 200 OK', 'Content-Length: 0002'], 'ok'));
  good('content-length-zero', 200, 0, crlf(['HTTP/1.1 200 OK', 'Content-Length: 0']));

  // Chunked framing.
  add('chunk-size-overflow-20-hex', crlf(chunkedHead, 'ffffffffffffffffffff\r\nok\r\n0\r\n\r\n'));
  add('chunk-size-empty-line', crlf(chunkedHead, '\r\nok\r\n0\r\n\r\n'));
  add('chunk-size-1-space-0', crlf(chunkedHead, '1 0\r\nabcdefghijklmnop\r\n0\r\n\r\n'));
  add('chunk-size-trailing-spaces', crlf(chunkedHead, '2  \r\nok\r\n0  \r\n\r\n'));
  add('chunk-size-leading-space', crlf(chunkedHead, ' 2\r\nok\r\n0\r\n\r\n'));
  add('chunk-size-negative', crlf(chunkedHead, '-2\r\nok\r\n0\r\n\r\n'));
  add('chunk-size-0x-prefix', crlf(chunkedHead, '0x2\r\nok\r\n0\r\n\r\n'));
  add('chunk-data-not-followed-by-crlf', crlf(chunkedHead, '2\r\nokXX0\r\n\r\n'));
  add('chunk-data-followed-by-bare-cr', crlf(chunkedHead, '2\r\nok\r0\r\n\r\n'));
  add('chunk-extension-without-semicolon', crlf(chunkedHead, '2 erfrferferf\r\naa\r\n0 rrrr\r\n\r\n'));
  add('chunk-extension-empty-after-semicolon', crlf(chunkedHead, '2;\r\naa\r\n0\r\n\r\n'));
  add('chunk-extension-unbalanced-quote', crlf(chunkedHead, '5;ilovew3="abc";somuchlove="def; ghi\r\nhello\r\n6;blahblah;blah\r\n world\r\n0\r\n\r\n'));
  add('chunk-size-one-too-large-eats-the-cr', crlf(chunkedHead, '3\r\nok\r\n0\r\n\r\n'));
  add('chunked-trailer-without-colon', crlf(chunkedHead, '2\r\nok\r\n0\r\nNoColonHere\r\n\r\n'));
  add('chunked-trailer-nul-in-value', crlf(chunkedHead, '2\r\nok\r\n0\r\nX-Foo: a\0b\r\n\r\n'));
  good('chunk-extensions', 200, 11, crlf(chunkedHead, '5;ilovew3;somuchlove=aretheseparametersfor\r\nhello\r\n6;blahblah;blah\r\n world\r\n0\r\n\r\n'));
  good('chunk-extensions-quoted', 200, 11, crlf(chunkedHead, '5;ilovew3="I love; extensions";somuchlove="aretheseparametersfor";blah;foo=bar\r\nhello\r\n6;blahblah;blah\r\n world\r\n0\r\n\r\n'), {}, true);
  good('chunked-trailers', 200, 2, crlf(chunkedHead, '2\r\nok\r\n0\r\nExpires: never\r\nX-Checksum: abc\r\n\r\n'), {}, true);
  good('chunked-empty-body', 200, 0, crlf(chunkedHead, '0\r\n\r\n'));
  good('chunked-one-byte-chunks', 200, 5, crlf(chunkedHead, '1\r\nh\r\n1\r\ne\r\n1\r\nl\r\n1\r\nl\r\n1\r\no\r\n0\r\n\r\n'));
  good('chunked-uppercase-hex-leading-zeros', 200, 26, crlf(chunkedHead, '001A\r\nabcdefghijklmnopqrstuvwxyz\r\n000\r\n\r\n'));
  good('chunked-gzip-then-chunked', 200, 2, crlf(['HTTP/1.1 200 OK', 'Transfer-Encoding: gzip, chunked'], '2\r\nok\r\n0\r\n\r\n'));
  good('chunked-in-second-transfer-encoding-header', 200, 2, crlf(['HTTP/1.1 200 OK', 'Transfer-Encoding: gzip', 'Transfer-Encoding: chunked'], '2\r\nok\r\n0\r\n\r\n'));
  good('transfer-encoding-chunked-not-last-reads-to-close', 200, 5, crlf(['HTTP/1.1 200 OK', 'Transfer-Encoding: chunked, deflate'], 'World'), { afterWrite: 'close' });
  add('transfer-encoding-chunked-then-identity-header', crlf(['HTTP/1.1 200 OK', 'Transfer-Encoding: chunked', 'Transfer-Encoding: identity'], 'World'), { afterWrite: 'close' });
  add('transfer-encoding-chunkedchunked', crlf(['HTTP/1.1 200 OK', 'Transfer-Encoding: chunkedchunked'], '2\r\nOK\r\n0\r\n\r\n'), { afterWrite: 'close' });
  add('transfer-encoding-xchunked', crlf(['HTTP/1.1 200 OK', 'Transfer-Encoding: xchunked'], '2\r\nOK\r\n0\r\n\r\n'), { afterWrite: 'close' });
  add('chunked-last-chunk-without-final-crlf-then-close', crlf(chunkedHead, '2\r\nok\r\n0\r\n'), { afterWrite: 'close' });
  good('chunked-header-casing-and-spaces', 200, 0, crlf(['HTTP/1.1 200 OK', 'Date: Tue, 28 Sep 2010 01:14:13 GMT', 'Vary: Accept-Encoding', 'Transfer-Encoding: chunked', 'Content-Type: text/html', 'Connection: close'], '0\r\n\r\n'), { afterWrite: 'close' });

  // Bare LF: RFC 9112 §2.2 lets a recipient accept it; node's strict parser does not.
  const lfThroughout = lf(['HTTP/1.1 200 OK', 'Foo: abc', 'Content-Length: 5'], 'BODY\n');
  add('bare-lf-throughout', lfThroughout, { lenientTruth: truth(200, 5, lfThroughout) });
  const lfNoBody = lf(['HTTP/1.1 200 OK', 'Content-Length: 0']);
  add('bare-lf-no-body', lfNoBody, { lenientTruth: truth(200, 0, lfNoBody) });
  const lfChunked = lf(chunkedHead, '2\nok\n0\n\n');
  add('bare-lf-throughout-chunked', lfChunked, { lenientTruth: truth(200, 2, lfChunked) });
  const lfClose = lf(['HTTP/1.1 200 OK', 'Content-Type: text/html; charset=utf-8', 'Connection: close'], 'these headers are from http://news.ycombinator.com/');
  add('bare-lf-throughout-close-delimited', lfClose, { afterWrite: 'close', lenientTruth: truth(200, 51, lfClose) });
  const lfFraming = crlf(chunkedHead, '2\nok\n3;ext=1\nabc\n0\n\n');
  add('bare-lf-only-in-chunked-framing', lfFraming, { lenientTruth: truth(200, 5, lfFraming) });
  const lfLastLine = 'HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\nok';
  add('bare-lf-ending-the-head-only', lfLastLine, { lenientTruth: truth(200, 2, lfLastLine) });

  // Cut short by the server.
  const cutBody = crlf(['HTTP/1.1 200 OK', 'Content-Length: 10'], 'okok');
  add('cut-mid-body-close', cutBody, { afterWrite: 'close' });
  add('cut-mid-body-reset', cutBody, { afterWrite: 'reset' });
  add('cut-mid-head-close', 'HTTP/1.1 200 OK\r\nContent-Len', { afterWrite: 'close' });
  add('cut-mid-head-reset', 'HTTP/1.1 200 OK\r\nContent-Len', { afterWrite: 'reset' });
  add('cut-mid-chunk-close', crlf(chunkedHead, '10\r\nokok'), { afterWrite: 'close' });
  add('cut-mid-chunk-reset', crlf(chunkedHead, '10\r\nokok'), { afterWrite: 'reset' });
  add('cut-before-any-byte-close', '', { afterWrite: 'close' });
  add('cut-before-any-byte-reset', '', { afterWrite: 'reset' });
  good('complete-response-then-reset', 200, 2, ok2, { afterWrite: 'reset', pauseMs: 30 }, false);

  // Head sizes: node counts reason + header names + values against maxHeaderSize (64 KiB here), spear the whole head.
  good('head-over-16k', 200, 2, bigHead(20, 1000));
  add('head-over-64k', bigHead(70, 1000));
  add('head-over-64k-one-header', bigHead(1, 70_000));
  add('head-over-64k-in-one-write', bigHead(70, 1000), { splits: [] });
  good('head-limit-boundary-wire-65535', 200, 2, headOfSize({ wire: 65_535 }));
  add('head-limit-boundary-wire-65536', headOfSize({ wire: 65_536 }));
  add('head-limit-boundary-wire-65537', headOfSize({ wire: 65_537 }));
  add('head-limit-boundary-node-count-65535', headOfSize({ nodeCount: 65_535 }));
  add('head-limit-boundary-node-count-65536', headOfSize({ nodeCount: 65_536 }));
  return cases;
}
