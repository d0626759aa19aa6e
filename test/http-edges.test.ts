import assert from 'node:assert/strict';
import { writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { ExitCode } from '../src/errors.js';
import { HttpConnection } from '../src/protocols/http/http-connection.js';
import { prepareRequest } from '../src/protocols/http/request-bytes.js';
import { readResult } from '../src/report/result-file.js';
import type { RunResult } from '../src/report/result.js';
import { refusedPortUrl, startScriptedServer } from './servers/faulty-servers.js';
import { runSpear, tempDir } from './support/spear.js';

// How spear's own HTTP/1.1 client counts at the edges of framing (issue 10, cases A, B, H and the
// connect backoff): every count here is checked against what the raw server itself saw.

let dir: { path: string; cleanup: () => Promise<void> };

before(async () => {
  dir = await tempDir();
});

after(async () => {
  await dir.cleanup();
});

async function load(target: string, name: string, extra: readonly string[] = ['-c', '2', '-d', '1s']): Promise<RunResult> {
  const out = join(dir.path, `${name}.json`);
  const run = await runSpear(['run', ...(target === '' ? [] : ['--target', target]), '--agents', '1', '--quiet', '--out', out, ...extra]);
  const result = await readResult(out);
  // A run in which no request got a response exits 7 (ExitCode.noSuccess).
  assert.equal(run.code, result.summary.requests === 0 ? ExitCode.noSuccess : ExitCode.ok, `exit ${run.code}: ${run.stderr}`);
  return result;
}

const ok = 'HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello';

test('A: close-delimited bodies are whole responses, with no phantom errors and no write to the dead socket', async () => {
  const server = await startScriptedServer((socket) => socket.end('HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\n\r\nhello, until close'));
  try {
    const result = await load(server.url, 'close-delimited');
    assert.ok(result.summary.requests > 10, `${result.summary.requests} requests`);
    assert.equal(result.summary.requests, server.requests());
    assert.deepEqual(result.summary.statusCodes, { '200': server.requests() });
    assert.deepEqual(result.summary.errorCodes, {});
    assert.equal(server.accepted(), server.requests(), 'one connection per close-delimited response');
  } finally {
    await server.close();
  }
});

test('A: a close-delimited body cut by a reset or by the request timeout is an error, never also a 200', async () => {
  const reset = await startScriptedServer((socket) => {
    socket.write('HTTP/1.1 200 OK\r\n\r\npartial body');
    setTimeout(() => socket.resetAndDestroy(), 20);
  });
  try {
    const result = await load(reset.url, 'close-delimited-reset');
    assert.equal(result.summary.requests, 0, JSON.stringify(result.summary.statusCodes));
    assert.deepEqual(Object.keys(result.summary.errorCodes), ['read:ECONNRESET']);
    assert.equal(result.summary.errors.total, reset.requests());
  } finally {
    await reset.close();
  }
  const stalled = await startScriptedServer((socket) => socket.write('HTTP/1.1 200 OK\r\n\r\npartial body'));
  try {
    const result = await load(stalled.url, 'close-delimited-timeout', ['-c', '2', '-d', '1s', '--timeout', '300ms']);
    assert.equal(result.summary.requests, 0, JSON.stringify(result.summary.statusCodes));
    assert.deepEqual(Object.keys(result.summary.errorCodes), ['timeout:SPEAR_REQUEST_TIMEOUT']);
    assert.equal(result.summary.errors.total, stalled.requests());
  } finally {
    await stalled.close();
  }
});

test('B/H: a second response or bytes after a body in the same read are an error of the connection, which closes', async () => {
  for (const [name, extra] of [['double', ok], ['garbage', 'XYZ']] as const) {
    const server = await startScriptedServer((socket) => socket.write(ok + extra));
    try {
      const result = await load(server.url, name);
      assert.ok(result.summary.requests > 10, `${name}: ${result.summary.requests} requests`);
      assert.equal(result.summary.requests, server.requests(), name);
      assert.deepEqual(result.summary.statusCodes, { '200': server.requests() }, name);
      assert.deepEqual(result.summary.errorCodes, { 'read:SPEAR_UNSOLICITED_RESPONSE': server.requests() }, name);
      assert.equal(server.accepted(), server.requests(), `${name}: each such connection is closed`);
    } finally {
      await server.close();
    }
  }
});

test('B: a response arriving on an idle connection is unsolicited; spear never counts more responses than requests served', async () => {
  const idle = await startScriptedServer((socket) => {
    socket.write(ok);
    setTimeout(() => socket.writable && socket.write(ok), 10);
  });
  try {
    const result = await load(idle.url, 'idle-extra', ['-c', '1', '-R', '5/s', '-d', '2s']);
    assert.ok(result.summary.requests >= 5, `${result.summary.requests} requests`);
    assert.equal(result.summary.requests, idle.requests());
    assert.deepEqual(result.summary.errorCodes, { 'read:SPEAR_UNSOLICITED_RESPONSE': idle.requests() });
  } finally {
    await idle.close();
  }
  const late = await startScriptedServer((socket) => {
    socket.write(ok);
    setTimeout(() => socket.writable && socket.write(ok), 2);
  });
  try {
    const result = await load(late.url, 'late-extra');
    // Over keep-alive HTTP/1.1 an extra response that comes after the next request left cannot be told
    // from that request's answer (Node's client has the same limit); what must hold is the count: one
    // response per request (it was 1.6 responses per request before). The server cannot count exactly
    // here: spear resets the connections it drops, and a reset discards requests still in the server's
    // receive queue, so a small surplus is the server's undercount.
    assert.ok(result.summary.requests <= late.requests() * 1.02, `${result.summary.requests} responses counted for ${late.requests()} requests`);
    assert.ok((result.summary.errorCodes['read:SPEAR_UNSOLICITED_RESPONSE'] ?? 0) > 0);
  } finally {
    await late.close();
  }
});

test('a refused target is retried with a growing backoff, not hammered', async () => {
  const result = await load(await refusedPortUrl(), 'backoff');
  assert.deepEqual(Object.keys(result.summary.errorCodes), ['connect:ECONNREFUSED']);
  // Waits of 10, 20, 40 … 1000 ms (halved at worst by jitter): ~8–12 attempts per connection in 1 s.
  assert.ok(result.summary.errors.total >= 4 && result.summary.errors.total <= 30, `${result.summary.errors.total} connect errors`);
});

test('C: paths are percent-encoded as URLs are, header values go as UTF-8, and CR/LF in a value is refused at load', async () => {
  const heads: Buffer[] = [];
  const server = await startScriptedServer((socket, _index, head) => {
    if (heads.length < 1) heads.push(head);
    socket.write(ok);
  });
  const file = join(dir.path, 'unicode.yaml');
  try {
    await writeFile(file, `target: ${server.url}\nrequests:\n  - path: "/café/日本 x?q=✓"\n    headers: {x-mark: "✓ ok"}\nload: {connections: 1}\nduration: 1s\n`);
    const result = await load('', 'unicode', [file]);
    assert.equal(result.summary.requests, server.requests());
    const head = heads[0]!;
    assert.equal(head.subarray(0, head.indexOf('\r\n')).toString('latin1'), 'GET /caf%C3%A9/%E6%97%A5%E6%9C%AC%20x?q=%E2%9C%93 HTTP/1.1');
    assert.ok(head.includes(Buffer.from('x-mark: ✓ ok\r\n', 'utf8')), head.toString('latin1'));
  } finally {
    await server.close();
  }
  await writeFile(file, 'target: http://127.0.0.1:1\nrequests:\n  - path: /\n    headers: {x-evil: "a\\r\\nGET /other HTTP/1.1"}\n');
  const refused = await runSpear(['validate', file]);
  assert.equal(refused.code, 3, refused.stderr);
  assert.match(refused.stderr, /requests\[0\]\.headers\.x-evil.*cannot hold CR or LF/);
});

test('D/E/F/G: malformed responses are classified parse errors at once, never successes or timeouts; statuses 600-999 keep their code', async () => {
  const cases: readonly (readonly [string, string, string])[] = [
    ['D: not HTTP/', 'HTPT/1.1 200 OK\r\nContent-Length: 0\r\n\r\n', 'read:HPE_INVALID_CONSTANT'],
    ['D: four-digit status', 'HTTP/1.1 2000 OK\r\nContent-Length: 0\r\n\r\n', 'read:HPE_INVALID_STATUS'],
    ['D: header without a colon', 'HTTP/1.1 200 OK\r\nNoColon\r\nContent-Length: 0\r\n\r\n', 'read:HPE_INVALID_HEADER_TOKEN'],
    ['D: two content-lengths', 'HTTP/1.1 200 OK\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\nxx', 'read:HPE_UNEXPECTED_CONTENT_LENGTH'],
    ['F: content-length overflow', `HTTP/1.1 200 OK\r\nContent-Length: ${'9'.repeat(30)}\r\n\r\n`, 'read:HPE_INVALID_CONTENT_LENGTH'],
    ['F: chunk-size overflow', `HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n${'f'.repeat(20)}\r\n`, 'read:HPE_INVALID_CHUNK_SIZE'],
    ['F: 1 0 as a chunk size', 'HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n1 0\r\n', 'read:HPE_INVALID_CHUNK_SIZE'],
    ['G: a 70 KiB head', `HTTP/1.1 200 OK\r\nX-Big: ${'a'.repeat(70 * 1024)}\r\nContent-Length: 0\r\n\r\n`, 'read:HPE_HEADER_OVERFLOW'],
  ];
  for (const [name, response, key] of cases) {
    // The server keeps the connection open: a parser that waited would time out (after 5 s here), not fail at once.
    const server = await startScriptedServer((socket) => socket.write(response));
    try {
      const result = await load(server.url, name.replace(/\W+/g, '-'), ['-c', '1', '-d', '500ms', '--timeout', '5s']);
      assert.equal(result.summary.requests, 0, name);
      assert.deepEqual(result.summary.errorCodes, { [key]: server.requests() }, name);
    } finally {
      await server.close();
    }
  }
  const odd = await startScriptedServer((socket) => socket.write('HTTP/1.1 999 Odd\r\nContent-Length: 0\r\n\r\n'));
  try {
    const result = await load(odd.url, 'status-999', ['-c', '1', '-d', '500ms']);
    assert.deepEqual(result.summary.statusCodes, { '999': odd.requests() });
  } finally {
    await odd.close();
  }
});

test('a request that waited out a connect backoff is timed from when it was written, not from the wait', async () => {
  const port = Number(new URL(await refusedPortUrl()).port);
  const outcomes: { status: number; error: unknown }[] = [];
  let wake: (() => void) | undefined;
  const listener = {
    completed: (_slot: unknown, status: number, _bytes: number, error: unknown) => {
      outcomes.push({ status, error });
      wake?.();
    },
    connectionFailed: () => undefined,
  };
  const connection = new HttpConnection({ host: '127.0.0.1', port, tls: false, connectTimeoutMs: 1000 }, listener, { opened: () => undefined, closed: () => undefined });
  const request = prepareRequest({ name: 'GET /', method: 'GET', path: '/', headers: {}, body: undefined }, new URL(`http://127.0.0.1:${port}`));
  const slot = { intendedAt: 0, sentAt: 0, requestIndex: 0, request, send: () => connection.send(slot) };
  const exchange = async (): Promise<void> => {
    const done = new Promise<void>((resolve) => {
      wake = resolve;
    });
    slot.sentAt = performance.now();
    slot.send();
    await done;
  };
  // Refused connects in a row: the backoff grows to 40-80 ms.
  for (let attempt = 0; attempt < 4; attempt += 1) await exchange();
  assert.ok(outcomes.every((outcome) => outcome.status === 0));
  const server = createServer((socket) => socket.on('data', () => socket.write(ok)));
  await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve));
  try {
    const asked = performance.now();
    await exchange();
    assert.equal(outcomes.at(-1)?.status, 200);
    assert.ok(slot.sentAt - asked >= 20, `written ${(slot.sentAt - asked).toFixed(1)} ms after it was asked: the backoff is not the server's time`);
  } finally {
    connection.abort(new Error('done'));
    await new Promise((resolve) => server.close(resolve));
  }
});
