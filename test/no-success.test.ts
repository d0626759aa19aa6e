import assert from 'node:assert/strict';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { ExitCode } from '../src/errors.js';
import { readResult } from '../src/report/result-file.js';
import { refusedPortUrl } from './servers/faulty-servers.js';
import { runSpear, tempDir } from './support/spear.js';

// Runs in which nothing ever succeeds (issue 12, item 6): exit code 7 with a one-line reason,
// the result still written, and abortOnFail stopping a dead run early.

let dir: { path: string; cleanup: () => Promise<void> };

before(async () => {
  dir = await tempDir();
});

after(async () => {
  await dir.cleanup();
});

const refusedLine = /^spear: no request succeeded: [\d,]+ connect:ECONNREFUSED \(nothing listens at the target address: check the URL and that the server is up\)$/m;

test('a run against a refused port exits 7 with the reason on stderr, and writes its result', async () => {
  const out = join(dir.path, 'refused.json');
  const run = await runSpear(['run', '--target', await refusedPortUrl(), '-c', '2', '-d', '1s', '-a', '1', '--progress', 'quiet', '--out', out]);
  assert.equal(run.code, ExitCode.noSuccess, run.stderr);
  assert.match(run.stderr, refusedLine);
  assert.match(run.stdout, /connect:ECONNREFUSED/, 'the summary first');
  const result = await readResult(out);
  assert.equal(result.summary.requests, 0);
  assert.ok(result.summary.errors.connect > 0);
  assert.equal(result.aborted, undefined, 'a 1 s run ends before abortOnFail (10 s)');
});

test('--abort-on-fail 2s stops a 30 s run against a refused port early and says why, in the result too', async () => {
  const out = join(dir.path, 'aborted.json');
  const began = Date.now();
  const run = await runSpear(['run', '--target', await refusedPortUrl(), '-c', '2', '-d', '30s', '-a', '1', '--abort-on-fail', '2s', '--progress', 'lines', '--out', out]);
  const wallMs = Date.now() - began;
  assert.ok(wallMs < 15_000, `took ${wallMs} ms`);
  assert.equal(run.code, ExitCode.noSuccess, run.stderr);
  assert.match(run.stderr, /^spear: stopping early after 2\.0s \(abortOnFail: 2s\): no request succeeded: \d+ connect:ECONNREFUSED/m, 'said live');
  assert.match(run.stderr, /^spear: run stopped after 2\.0s \(abortOnFail: 2s; --abort-on-fail off runs on\): no request succeeded: [\d,]+ connect:ECONNREFUSED \(nothing listens/m);
  const result = await readResult(out);
  assert.ok(result.aborted !== undefined, 'result.aborted');
  assert.equal(result.aborted.abortOnFailMs, 2000);
  assert.ok(result.aborted.afterMs >= 2000 && result.aborted.afterMs < 5000, `after ${result.aborted.afterMs} ms`);
  assert.match(result.aborted.reason, /^no request succeeded: \d+ connect:ECONNREFUSED \(nothing listens/);
  assert.equal(result.interrupted, false);
  assert.ok(result.summary.durationS < 6, `${result.summary.durationS} s of load`);
});

test('a ws run in which no user connects exits 7: "no user connected"', async () => {
  const file = join(dir.path, 'users.yaml');
  await writeFile(file, `protocol: ws\ntarget: ${(await refusedPortUrl()).replace('http:', 'ws:')}\nload: { users: 4, connectRate: 100/s, hold: 500ms }\nagents: 1\nflow:\n  - connect: {}\n`);
  const out = join(dir.path, 'users.json');
  const run = await runSpear(['run', file, '--quiet', '--out', out]);
  assert.equal(run.code, ExitCode.noSuccess, run.stderr);
  assert.match(run.stderr, /^spear: no user connected: [\d,]+ connect:ECONNREFUSED \(nothing listens/m);
  assert.equal((await readResult(out)).summary.connections?.opened, 0);
});
