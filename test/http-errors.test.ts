import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { ExitCode } from '../src/errors.js';
import { readResult } from '../src/report/result-file.js';
import type { RunResult } from '../src/report/result.js';
import { refusedPortUrl, startResettingServer, startSilentServer } from './servers/faulty-servers.js';
import { startHttpServer } from './servers/http-server.js';
import { runSpear, tempDir } from './support/spear.js';

let dir: { path: string; cleanup: () => Promise<void> };

before(async () => {
  dir = await tempDir();
});

after(async () => {
  await dir.cleanup();
});

/** `code`: the exit code expected; a run in which no request got a response exits 7 (ExitCode.noSuccess). */
async function load(target: string, name: string, extra: readonly string[] = [], code: number = ExitCode.noSuccess): Promise<RunResult> {
  const out = join(dir.path, `${name}.json`);
  const run = await runSpear(['run', '--target', target, '-c', '2', '-d', '1s', '--agents', '1', '--quiet', '--out', out, ...extra]);
  assert.equal(run.code, code, `exit ${run.code}: ${run.stderr}`);
  return readResult(out);
}

/** The error kinds other than `kind` are all zero. */
function onlyKind(result: RunResult, kind: 'connect' | 'read' | 'timeout' | 'status'): void {
  for (const other of ['connect', 'read', 'write', 'timeout', 'other', 'status'] as const) {
    if (other !== kind) assert.equal(result.summary.errors[other], 0, `${other} errors: ${JSON.stringify(result.summary.errorCodes)}`);
  }
  assert.ok(result.summary.errors[kind] > 0, `no ${kind} errors`);
}

test('a refused port gives connect errors (ECONNREFUSED) with a hint, and a written result', async () => {
  const result = await load(await refusedPortUrl(), 'refused');
  onlyKind(result, 'connect');
  assert.equal(result.summary.requests, 0);
  assert.deepEqual(Object.keys(result.summary.errorCodes), ['connect:ECONNREFUSED']);
  assert.equal(result.summary.errors.total, result.summary.errorCodes['connect:ECONNREFUSED']);
  assert.match(result.summary.hints.join('\n'), /ECONNREFUSED: nothing listens/);
});

test('a server that resets connections gives read errors', async () => {
  const server = await startResettingServer();
  try {
    const result = await load(server.url, 'reset');
    onlyKind(result, 'read');
    assert.equal(result.summary.requests, 0);
    for (const key of Object.keys(result.summary.errorCodes)) assert.match(key, /^read:(ECONNRESET|SPEAR_SOCKET_CLOSED)$/);
  } finally {
    await server.close();
  }
});

test('a server that never answers gives timeout errors', async () => {
  const server = await startSilentServer();
  try {
    const result = await load(server.url, 'silent', ['--timeout', '300ms']);
    onlyKind(result, 'timeout');
    assert.equal(result.summary.requests, 0);
    assert.deepEqual(Object.keys(result.summary.errorCodes), ['timeout:SPEAR_REQUEST_TIMEOUT']);
    // 2 connections × 1 s / 300 ms: 3 timeouts each during the run, and the request in flight at the end
    // times out during the drain and is counted too. The sweep runs every 30 ms, so a timeout may be 10% late.
    assert.ok(result.summary.errors.timeout >= 6 && result.summary.errors.timeout <= 8, `${result.summary.errors.timeout} timeouts`);
    assert.equal(server.accepted(), result.summary.errors.timeout);
  } finally {
    await server.close();
  }
});

test('503 responses are counted per status, not as transport errors', async () => {
  const server = await startHttpServer({ status: 503 });
  try {
    const result = await load(server.url, 'status503', [], ExitCode.ok);
    onlyKind(result, 'status');
    assert.equal(result.summary.requests, server.received());
    assert.equal(result.summary.errors.status, server.received());
    assert.deepEqual(result.summary.statusCodes, { '503': server.received() });
    assert.equal(result.summary.errorRate, 1);
  } finally {
    await server.close();
  }
});
