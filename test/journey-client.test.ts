import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { after, before, test } from 'node:test';
import { Agent as HttpAgent } from 'undici';
import { errorCodeOf, errorKey, hintFor } from '../src/metrics/error-kind.js';
import { StepClient, type StepClientOptions } from '../src/protocols/http/step-client.js';
import { stepRequest } from '../src/protocols/http/step-request.js';
import { sendStep, type StepTransport } from '../src/sessions/http-exchange.js';
import { asSpearError } from '../src/sessions/undici-errors.js';
import { refusedPortUrl, startResettingServer, startSilentServer } from './servers/faulty-servers.js';
import { okResponse, startRawRequestServer } from './servers/raw-request-server.js';
import { startTlsServer } from './servers/tls-server.js';
import { opensslMissing, selfSignedCertificate } from './support/certificates.js';
import { tempDir } from './support/spear.js';

// spear's client for flow http steps (src/protocols/http/step-client.ts): the requests it writes,
// what it does when a kept connection turns out closed, and that every failure reads as the undici
// path read it (same spear codes), against real sockets.

const clients: StepClient[] = [];
let dir: { path: string; cleanup: () => Promise<void> };

before(async () => {
  dir = await tempDir();
});

after(async () => {
  for (const client of clients) await client.close();
  await dir.cleanup();
});

function client(options: Partial<StepClientOptions> = {}): StepClient {
  const made = new StepClient({ connections: 4, tlsOptions: {}, connectTimeoutMs: 2000, requestTimeoutMs: 2000, connectionFailed: () => undefined, ...options });
  clients.push(made);
  return made;
}

function get(transport: StepTransport, url: string, method = 'GET', body?: string): ReturnType<typeof sendStep> {
  return sendStep(transport, { method, url: new URL(url), headers: [], body }, true, 300);
}

test('the request bytes: host with its port, the step\'s headers, content-length as undici wrote it, CR/LF refused', () => {
  const text = (method: string, url: string, headers: readonly (readonly [string, string])[], body?: string): string => stepRequest(method, new URL(url), headers, body).bytes.toString('utf8');
  assert.equal(text('GET', 'http://127.0.0.1:8080/a%20b?x=1&y', [['accept', 'text/*']]), 'GET /a%20b?x=1&y HTTP/1.1\r\nhost: 127.0.0.1:8080\r\naccept: text/*\r\n\r\n');
  assert.equal(text('GET', 'https://example.test/', [['host', 'other.test']]), 'GET / HTTP/1.1\r\nhost: other.test\r\n\r\n');
  assert.equal(text('POST', 'http://h.test/', []), 'POST / HTTP/1.1\r\nhost: h.test\r\ncontent-length: 0\r\n\r\n', 'a POST without body says so');
  assert.equal(text('PUT', 'http://h.test/', [['content-length', '99']], '{"é":1}'), 'PUT / HTTP/1.1\r\nhost: h.test\r\ncontent-length: 8\r\n\r\n{"é":1}', 'the true length, in UTF-8 bytes');
  assert.equal(stepRequest('HEAD', new URL('http://h.test/'), [], undefined).bodyless, true);
  assert.deepEqual([stepRequest('GET', new URL('http://h.test/'), [], undefined).idempotent, stepRequest('POST', new URL('http://h.test/'), [], undefined).idempotent], [true, false]);
  assert.throws(() => stepRequest('GET', new URL('http://h.test/'), [['x-token', 'a\r\nx-evil: 1']], undefined), (error) => errorKey(error) === 'flow:SPEAR_INVALID_HEADER');
});

test('a POST body reaches the server whole; status, body bytes and text come back', async () => {
  const server = await startRawRequestServer((socket, request) => socket.write(okResponse(`got ${request.body.length}`)));
  try {
    const body = JSON.stringify({ user: 7, note: 'naïve ☃' });
    const outcome = await get(client(), `${server.url}/login?x=1`, 'POST', body);
    const [request] = server.requests;
    assert.ok(request !== undefined);
    assert.equal(request.target, '/login?x=1');
    assert.equal(request.body.toString('utf8'), body);
    assert.deepEqual(request.headers, [['host', server.url.slice('http://'.length)], ['content-length', String(Buffer.byteLength(body))]]);
    assert.equal(outcome.status, 200);
    assert.equal(outcome.text, `got ${Buffer.byteLength(body)}`);
    assert.equal(outcome.bytes, outcome.text.length);
  } finally {
    await server.close();
  }
});

test('a kept connection the server closed before answering: a GET is resent once on a new one, a POST fails with a code saying it cannot tell why', async () => {
  // Answers the first request of each connection; the second finds the connection closing (an idle
  // timeout crossing the next step), or, on /partial, half a head and then the close.
  const server = await startRawRequestServer((socket, request) => {
    if (request.position === 0) socket.write(okResponse('first'));
    else if (request.target === '/partial') socket.end('HTTP/1.1 200 OK\r\ncontent-');
    else socket.end();
  });
  try {
    const http = client({ connections: 1 });
    assert.equal((await get(http, `${server.url}/`)).status, 200);
    const resent = await get(http, `${server.url}/again`);
    assert.equal(resent.status, 200);
    assert.ok(resent.queuedUs >= 0, 'the lost attempt is spear\'s wait, not the server\'s latency');
    assert.equal(server.connections(), 2);
    // Whether the server dropped it or closed the idle connection as spear reused it cannot be told: its own code, not a plain read error.
    await assert.rejects(get(http, `${server.url}/post`, 'POST', 'x=1'), (error) => errorKey(error) === 'read:SPEAR_KEPT_CONNECTION_CLOSED' && hintFor('SPEAR_KEPT_CONNECTION_CLOSED') !== undefined);
    assert.equal((await get(http, `${server.url}/`)).status, 200, 'the next request opens a new connection');
    await assert.rejects(get(http, `${server.url}/partial`), (error) => errorCodeOf(error) === 'SPEAR_SOCKET_CLOSED', 'an answer had begun: never resent');
    assert.deepEqual(server.requests.map((request) => request.target), ['/', '/again', '/again', '/post', '/', '/partial']);
  } finally {
    await server.close();
  }
});

test('a server that says connection: close after every response: every request answered, no error', async () => {
  const server = await startRawRequestServer((socket) => socket.end(okResponse('bye', true)));
  try {
    const http = client({ connections: 1 });
    for (const method of ['GET', 'POST', 'GET']) assert.equal((await get(http, `${server.url}/`, method, method === 'POST' ? 'a' : undefined)).status, 200);
    assert.equal(server.connections(), 3);
    assert.equal(server.requests.length, 3, 'nothing was sent twice');
  } finally {
    await server.close();
  }
});

test('all connections busy: the request waits (queue time), then goes out on the first one freed', async () => {
  const server = await startRawRequestServer((socket) => setTimeout(() => socket.write(okResponse('late')), 20));
  try {
    const http = client({ connections: 1 });
    assert.ok((await get(http, server.url)).queuedUs >= 0, 'a new connection: the connect was waited for');
    const outcomes = await Promise.all([get(http, server.url), get(http, server.url), get(http, server.url)]);
    assert.deepEqual(outcomes.map((outcome) => outcome.queuedUs >= 0), [false, true, true]);
    assert.equal(server.connections(), 1);
    assert.equal(http.openConnections(), 1);
  } finally {
    await server.close();
  }
});

test('failures read as they did through undici: refused, reset, no answer within the timeout; a malformed answer now reads as request load\'s', async () => {
  const silent = await startSilentServer();
  const resetting = await startResettingServer();
  const garbage = await startRawRequestServer((socket) => socket.write('HTTP/1.1 2x0 OK\r\n\r\n'));
  const undici = new HttpAgent({ connections: 4, connect: { timeout: 2000 } });
  try {
    // [url, spear's code, undici's code mapped by asSpearError]
    const cases: readonly (readonly [string, string, string])[] = [
      [await refusedPortUrl(), 'ECONNREFUSED', 'ECONNREFUSED'],
      [resetting.url, 'ECONNRESET', 'ECONNRESET'],
      [silent.url, 'SPEAR_REQUEST_TIMEOUT', 'SPEAR_REQUEST_TIMEOUT'],
      // undici's HTTPParserError carries no code for a bad status line (other:UNKNOWN); spear's parser says read:HPE_*.
      [garbage.url, 'HPE_INVALID_STATUS', 'UNKNOWN'],
    ];
    const spear = client({ requestTimeoutMs: 300 });
    for (const [url, spearCode, undiciCode] of cases) {
      for (const [name, transport, code] of [['spear', spear, spearCode], ['undici', undici, undiciCode]] as const) {
        const error = await get(transport, url).then(() => undefined, (failure: unknown) => asSpearError(failure));
        assert.equal(errorCodeOf(error), code, `${name} against ${url}`);
      }
    }
    await assert.rejects(get(spear, 'ftp://127.0.0.1/'), (error) => errorKey(error) === 'flow:SPEAR_INVALID_URL');
  } finally {
    await undici.close();
    for (const server of [silent, resetting, garbage]) await server.close();
  }
});

test('a redirect is the step\'s status, not followed, as with undici\'s dispatch', async () => {
  const server = await startRawRequestServer((socket) => socket.write('HTTP/1.1 302 Found\r\nlocation: /elsewhere\r\ncontent-length: 0\r\n\r\n'));
  try {
    assert.equal((await get(client(), `${server.url}/old`)).status, 302);
    assert.deepEqual(server.requests.map((request) => request.target), ['/old']);
  } finally {
    await server.close();
  }
});

test('https origins use the target\'s TLS settings', async (t) => {
  const certificate = selfSignedCertificate(dir.path, 'journey-target', 'IP:127.0.0.1');
  if (certificate === undefined) return t.skip(opensslMissing);
  const cert = await readFile(certificate.cert, 'utf8');
  const server = await startTlsServer({ cert, key: await readFile(certificate.key, 'utf8'), clientCa: cert });
  try {
    const outcome = await get(client({ tlsOptions: { ca: cert } }), `${server.url}/ticket`);
    assert.deepEqual([outcome.status, outcome.text], [200, '{"ok":true}']);
    await assert.rejects(get(client(), `${server.url}/ticket`), (error) => errorCodeOf(error) === 'DEPTH_ZERO_SELF_SIGNED_CERT');
  } finally {
    await server.close();
  }
});
