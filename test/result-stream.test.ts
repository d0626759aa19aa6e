import assert from 'node:assert/strict';
import { readdir, readFile, truncate, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { chartsFor } from '../src/report/html-charts.js';
import { renderHtml } from '../src/report/html.js';
import { JsonObjectStream } from '../src/report/json-object-stream.js';
import { readResult, writeResult } from '../src/report/result-file.js';
import { jsonChunks } from '../src/report/result-json.js';
import type { RunResult } from '../src/report/result.js';
import { renderSummaryJson } from '../src/report/summary-json.js';
import { renderTextSummary } from '../src/report/text-summary.js';
import { runSpear, tempDir } from './support/spear.js';
import { syntheticResult } from './support/synthetic-result.js';

let dir: { path: string; cleanup: () => Promise<void> };
/** 20 agents × 600 intervals: past the 16 agents that keep every row, and past one 1 MiB write. */
let fleet: RunResult;

before(async () => {
  dir = await tempDir();
  fleet = syntheticResult(20, 600);
});

after(async () => {
  await dir.cleanup();
});

test('a fleet\'s result is written piece by piece as JSON.stringify would write it whole, and reads back to the same report', async () => {
  const file = join(dir.path, 'fleet.json');
  await writeResult(file, fleet);
  const text = await readFile(file, 'utf8');
  assert.ok(text.length > 1 << 20, `${text.length} characters`);
  assert.equal(text, `${JSON.stringify(fleet, null, 2)}\n`);
  assert.deepEqual(await readdir(dir.path), ['fleet.json']);
  const read = await readResult(file);
  assert.deepStrictEqual(read, JSON.parse(text));
  assert.equal(renderTextSummary(read), renderTextSummary(fleet));
  assert.equal(renderSummaryJson(read), renderSummaryJson(fleet));
  assert.equal(renderHtml(read), renderHtml(fleet));
  // The warning still names what saturated agent 1 first.
  assert.match(renderTextSummary(read), /agent 1: 122 of 600 intervals saturated \(first: load-loop delay p99 120 ms > 50 ms, in interval 2\)/);
});

test('past 16 agents the timeline keeps per interval the worst agents\' rows and each agent\'s first saturated one, even when every agent is saturated', () => {
  const saturatedAt = [2, 3, ...Array.from({ length: 120 }, (_, index) => 480 + index)];
  assert.deepEqual(fleet.timeline.filter((entry) => entry.saturatedAgents === 1).map((entry) => entry.index), saturatedAt);
  assert.ok(fleet.timeline.every((entry) => entry.saturatedAgents === (saturatedAt.includes(entry.index) ? 1 : 0)));
  // Calm intervals: the worst by load-loop delay p99, by CPU (all tie: agent 0) and by loop use (agent 2).
  assert.deepEqual(fleet.timeline[10]?.health.map((row) => row.agent), [0, 2, 3]);
  assert.deepEqual(fleet.timeline[2]?.health.map((row) => row.agent), [0, 1]);
  // Every agent saturated in every interval: each agent's first saturated row, then at most 3 rows an interval.
  const overloaded = syntheticResult(20, 50, 5, () => true);
  assert.deepEqual(overloaded.timeline.map((entry) => entry.saturatedAgents), Array.from({ length: 50 }, () => 20));
  assert.equal(overloaded.timeline[0]?.health.length, 20);
  assert.ok(overloaded.timeline.slice(1).every((entry) => entry.health.length <= 3));
  // A small fleet keeps every row, as before.
  assert.deepEqual(syntheticResult(3, 4).timeline.map((entry) => entry.health.length), [3, 3, 3, 3]);
  // The HTML draws the worst agent, from the rows kept; no mean of a few rows.
  const loop = chartsFor(fleet).find((chart) => chart.id === 'self-loop');
  assert.deepEqual(loop?.series.map((series) => series.label), ['worst agent', 'saturated above 50 ms']);
  assert.deepEqual(loop?.series[0]?.values.slice(0, 4), [3.5, 3.5, 120, 120]);
});

test('the streamed parser equals JSON.parse at every chunk size, multi-byte characters and escapes split anywhere; cut text is refused', () => {
  const small = { ...syntheticResult(2, 3), name: 'é€😀 "quoted" \\ back\u2028slash\n', empty: [], nested: [[1, [2]], { a: [] }], proto: JSON.parse('{"__proto__": 1}') as unknown };
  const text = [...jsonChunks(small)].join('');
  assert.equal(text, `${JSON.stringify(small, null, 2)}\n`);
  const bytes = Buffer.from(text);
  for (const size of [1, 2, 3, 5, 64, 4096]) {
    const parser = new JsonObjectStream();
    for (let at = 0; at < bytes.length; at += size) parser.push(bytes.subarray(at, at + size));
    assert.deepStrictEqual(parser.end(), JSON.parse(text), `chunks of ${size}`);
  }
  const end = bytes.lastIndexOf('}');
  for (let cut = 0; cut < end; cut += 89) {
    assert.throws(() => {
      const parser = new JsonObjectStream();
      parser.push(bytes.subarray(0, cut));
      parser.end();
    }, SyntaxError, `cut at ${cut}`);
  }
  for (const bad of ['[]', '{"a":1,}', '{"a":[1,]}', '{"a" 1}', '{"a":1} {}', '{"a":tru}', '{"a":[1 2]}']) {
    assert.throws(() => new JsonObjectStream().push(Buffer.from(bad)), SyntaxError, bad);
  }
});

test('spear report reads version 1 results, refuses unknown versions, and refuses a file too large for its heap in one line', async () => {
  const small = syntheticResult(3, 5);
  const v1 = { ...small, version: 1, timeline: small.timeline.map(({ saturatedAgents: _, ...entry }) => entry) } as RunResult;
  const v1File = join(dir.path, 'v1.json');
  await writeFile(v1File, JSON.stringify(v1, null, 2));
  const v3File = join(dir.path, 'v3.json');
  await writeFile(v3File, JSON.stringify({ ...small, version: 3 }));
  // A sparse file: its size is all the check looks at, before reading a byte.
  const hugeFile = join(dir.path, 'huge.json');
  await writeFile(hugeFile, '{"format": "spear-result", ');
  await truncate(hugeFile, 64 * 2 ** 30);
  const [old, unknown, huge] = await Promise.all([runSpear(['report', v1File]), runSpear(['report', v3File]), runSpear(['report', hugeFile])]);
  assert.equal(old.code, 0, old.stderr);
  assert.equal(old.stdout, renderTextSummary(v1));
  assert.equal(unknown.code, 2);
  assert.equal(unknown.stderr, `spear: ${v3File} has result format version 3; this spear reads versions 1 and 2\n`);
  assert.equal(huge.code, 2);
  assert.match(huge.stderr, new RegExp(`^spear: cannot read the result ${hugeFile}: it is 64\\.0 GiB, more than this process's [\\d.]+ [GM]iB heap can hold parsed: run it again with NODE_OPTIONS=--max-old-space-size=\\d+ \\(MB; needs that much memory\\)\\n$`));
});
