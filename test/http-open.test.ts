import assert from 'node:assert/strict';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { readResult } from '../src/report/result-file.js';
import { startHttpServer } from './servers/http-server.js';
import { runSpear, tempDir } from './support/spear.js';

let dir: { path: string; cleanup: () => Promise<void> };

before(async () => {
  dir = await tempDir();
});

after(async () => {
  await dir.cleanup();
});

test('open model: the achieved rate is within 2% of the target and every arrival is sent', async () => {
  const server = await startHttpServer();
  try {
    const out = join(dir.path, 'open.json');
    const run = await runSpear(['run', '--target', server.url, '--rate', '400/s', '-c', '20', '-d', '3s', '--agents', '2', '--quiet', '--out', out]);
    assert.equal(run.code, 0, run.stderr);
    const result = await readResult(out);
    assert.equal(result.summary.model, 'open');
    assert.equal(result.summary.requests, server.received());
    assert.deepEqual(result.summary.arrivals, { scheduled: 1200, dropped: 0, droppedWhileSaturated: 0 });
    assert.equal(server.received(), 1200);
    assert.ok(Math.abs(result.summary.rps - 400) / 400 <= 0.02, `achieved ${result.summary.rps} req/s`);
  } finally {
    await server.close();
  }
});

test('open model: a 1 s server stall shows in the corrected p99, not in the uncorrected service time', async () => {
  const server = await startHttpServer({ stall: { afterMs: 1000, forMs: 1000 } });
  try {
    const out = join(dir.path, 'stall.json');
    const run = await runSpear(['run', '--target', server.url, '--rate', '200/s', '-c', '5', '-d', '4s', '--agents', '1', '--quiet', '--out', out]);
    assert.equal(run.code, 0, run.stderr);
    const result = await readResult(out);
    assert.equal(result.summary.requests, 800);
    assert.equal(server.received(), 800);
    assert.equal(result.summary.arrivals?.dropped, 0);
    // ~200 arrivals came due during the stall and waited for one of 5 stuck connections.
    assert.ok(result.summary.latencyMs.p99 >= 500, `corrected p99 ${result.summary.latencyMs.p99}ms`);
    assert.ok(result.summary.latencyMs.max >= 900, `corrected max ${result.summary.latencyMs.max}ms`);
    // Measured from the actual send, only the 5 requests caught on the wire saw the stall (< 1%).
    assert.ok(result.summary.serviceTimeMs.p99 < 500, `uncorrected p99 ${result.summary.serviceTimeMs.p99}ms`);
  } finally {
    await server.close();
  }
});

test('open model: arrivals that find no free connection within maxDelay are counted as dropped', async () => {
  const server = await startHttpServer({ stall: { afterMs: 0, forMs: 2500 } });
  try {
    const scenario = join(dir.path, 'drop.yaml');
    const { writeFile } = await import('node:fs/promises');
    await writeFile(scenario, `target: ${server.url}\nduration: 2s\nload:\n  rate: 100/s\n  connections: 2\n  maxDelay: 500ms\n`);
    const out = join(dir.path, 'drop.json');
    const run = await runSpear(['run', scenario, '--agents', '1', '--quiet', '--out', out]);
    assert.equal(run.code, 0, run.stderr);
    const result = await readResult(out);
    const arrivals = result.summary.arrivals;
    assert.ok(arrivals !== undefined);
    assert.equal(arrivals.scheduled, 200);
    // Two connections hang for the whole run: everything but the first two arrivals is dropped.
    assert.equal(server.received(), 2);
    assert.equal(arrivals.dropped, 198);
  } finally {
    await server.close();
  }
});

test('open model: arrivals dropped while spear\'s own agent was stuck are labelled spear\'s, not the server\'s', async () => {
  const server = await startHttpServer();
  try {
    const file = join(dir.path, 'stuck.yaml');
    const out = join(dir.path, 'stuck.json');
    await writeFile(file, `target: ${server.url}\nduration: 4s\nload: {rate: 200/s, connections: 5, maxDelay: 200ms}\n`);
    // The agent's load loop spins 2 s from 1 s in: the server is idle and fast, every drop is spear's.
    const run = await runSpear(['run', file, '--agents', '1', '--quiet', '--out', out], { env: { SPEAR_TEST_BUSY: '0:1000:2000' } });
    assert.equal(run.code, 0, run.stderr);
    const result = await readResult(out);
    const arrivals = result.summary.arrivals;
    assert.ok(arrivals !== undefined && arrivals.dropped > 100, JSON.stringify(arrivals));
    assert.equal(arrivals.droppedWhileSaturated, arrivals.dropped, 'every drop happened in an interval the agent was saturated in');
    assert.equal(server.received() + arrivals.dropped, arrivals.scheduled, 'every arrival was sent or dropped');
    assert.equal(result.summary.generator.saturated, true);
  } finally {
    await server.close();
  }
});
