import assert from 'node:assert/strict';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { decodeHistogram } from '../src/metrics/histogram.js';
import { readResult } from '../src/report/result-file.js';
import type { RunResult } from '../src/report/result.js';
import { startHttpServer, type CountingServer } from './servers/http-server.js';
import { readJson, runSpear, tempDir } from './support/spear.js';

let server: CountingServer;
let dir: { path: string; cleanup: () => Promise<void> };
let resultFile: string;
let result: RunResult;

before(async () => {
  server = await startHttpServer();
  dir = await tempDir();
  resultFile = join(dir.path, 'run.json');
  const run = await runSpear(['run', '--target', server.url, '-c', '10', '-d', '1s', '--agents', '2', '--quiet', '--out', resultFile]);
  assert.equal(run.code, 0, run.stderr);
  result = await readResult(resultFile);
});

after(async () => {
  await server.close();
  await dir.cleanup();
});

test('report --format text is the end-of-run summary', async () => {
  const report = await runSpear(['report', resultFile]);
  assert.equal(report.code, 0, report.stderr);
  assert.match(report.stdout, new RegExp(`${result.summary.requests} requests in`));
  assert.match(report.stdout, /Requests\/sec: /);
});

test('report --format json carries the merged summary unchanged', async () => {
  const out = join(dir.path, 'summary.json');
  const report = await runSpear(['report', resultFile, '--format', 'json', '--out', out]);
  assert.equal(report.code, 0, report.stderr);
  const summary = await readJson(out) as { format: string; summary: RunResult['summary'] };
  assert.equal(summary.format, 'spear-summary');
  assert.deepEqual(summary.summary.latencyMs, result.summary.latencyMs);
  assert.equal(summary.summary.requests, server.received());
});

test('report --format hgrm writes percentile distributions that parse back into the merged histogram', async () => {
  const prefix = join(dir.path, 'run');
  const report = await runSpear(['report', resultFile, '--format', 'hgrm', '--out', prefix]);
  assert.equal(report.code, 0, report.stderr);
  assert.deepEqual(report.stdout.trim().split('\n'), [`${prefix}.latency.hgrm`, `${prefix}.serviceTime.hgrm`]);
  const histogram = decodeHistogram(result.histograms.latency);
  const rows = (await readFile(`${prefix}.latency.hgrm`, 'utf8')).split('\n').filter((line) => /^\s+\d/.test(line)).map((line) => line.trim().split(/\s+/).map(Number));
  assert.ok(rows.length > 20);
  for (const [valueMs, percentile, count] of rows) {
    assert.equal(valueMs, Number((histogram.getValueAtPercentile(percentile! * 100) / 1000).toFixed(3)));
    assert.ok(count! <= histogram.totalCount);
  }
  assert.equal(rows[rows.length - 1]![2], histogram.totalCount);
  assert.equal(rows[rows.length - 1]![0], result.summary.latencyMs.max);
});

test('report --compare marks regressions and --fail-if gates on them', async () => {
  const baselineFile = join(dir.path, 'baseline.json');
  const baseline = structuredClone(result) as { summary: { latencyMs: { p99: number }; rps: number } };
  baseline.summary.latencyMs.p99 = result.summary.latencyMs.p99 / 2;
  await writeFile(baselineFile, JSON.stringify(baseline));
  const failing = await runSpear(['report', resultFile, '--compare', baselineFile, '--fail-if', 'p99 > +10%']);
  assert.equal(failing.code, 99, failing.stderr);
  assert.match(failing.stdout, /p99 .*\+100\.0%\s+REGRESSION/);
  assert.equal(failing.stderr, 'spear: regression: p99 > +10%\n');
  const passing = await runSpear(['report', resultFile, '--compare', baselineFile, '--fail-if', 'p99 > +150%', '--fail-if', 'rps < -5%']);
  assert.equal(passing.code, 0, passing.stderr);
  const unknown = await runSpear(['report', resultFile, '--compare', baselineFile, '--fail-if', 'p42 > +1%']);
  assert.equal(unknown.code, 2);
  assert.match(unknown.stderr, /^spear: --fail-if: no metric "p42" in both results/);
});
