import assert from 'node:assert/strict';
import { mkdir, readdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { PassThrough } from 'node:stream';
import { judgeGenerator, summarizeAgentHealth, type AgentIntervalHealth } from '../src/metrics/generator-verdict.js';
import { decodeHistogram } from '../src/metrics/histogram.js';
import { compareResults } from '../src/report/compare.js';
import { chartsFor } from '../src/report/html-charts.js';
import { renderHtml } from '../src/report/html.js';
import { createProgress } from '../src/report/progress.js';
import { readResult } from '../src/report/result-file.js';
import type { RunResult, TimelineEntry } from '../src/report/result.js';
import { renderTextSummary } from '../src/report/text-summary.js';
import { evaluateThresholds } from '../src/report/thresholds.js';
import { parseThreshold } from '../src/scenarios/threshold.js';
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
  const scenario = join(dir.path, 'run.yaml');
  // Two agents can never make three saturated: the threshold holds whatever this machine's load, and shows it is parsed and judged.
  await writeFile(scenario, `target: ${server.url}\nthresholds: [saturated <= 2]\n`);
  const run = await runSpear(['run', scenario, '-c', '10', '-d', '1s', '--agents', '2', '--quiet', '--out', resultFile]);
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

test('report -o - writes text, JSON and HTML to stdout and no file named "-"; hgrm refuses it in one line', async () => {
  const cwd = join(dir.path, 'stdout');
  await mkdir(cwd);
  const [text, json, html, hgrm] = await Promise.all([
    runSpear(['report', resultFile, '-o', '-'], { cwd }),
    runSpear(['report', resultFile, '--format', 'json', '-o', '-'], { cwd }),
    runSpear(['report', resultFile, '--format', 'html', '-o', '-'], { cwd }),
    runSpear(['report', resultFile, '--format', 'hgrm', '-o', '-'], { cwd }),
  ]);
  for (const report of [text, json, html]) assert.equal(report.code, 0, report.stderr);
  assert.equal(text.stdout, renderTextSummary(result));
  assert.equal((JSON.parse(json.stdout) as { format: string }).format, 'spear-summary');
  assert.match(html.stdout, /^<!doctype html>\n[^]*<\/html>\n$/);
  assert.equal(hgrm.code, 2);
  assert.equal(hgrm.stderr, 'spear: --format hgrm writes one file per histogram, not to stdout: give -o a path prefix (PREFIX.<histogram>.hgrm)\n');
  assert.deepEqual(await readdir(cwd), []);
});

test('rate charts count per second of each interval\'s own length and leave out intervals shorter than half the report interval', () => {
  const first = result.timeline[0]!;
  const tick = (index: number, ms: number, requests: number): TimelineEntry => ({
    ...first, index, startMs: first.startMs + 1000 * index, endMs: first.startMs + 1000 * index + ms, requests, errors: 0, statusErrors: requests / 10,
  });
  // 1,000/s throughout: the 0.7 s interval shows 1,000/s too; the 0.2 s one (a drain) is left out rather than drawn as a cliff.
  const charts = chartsFor({ ...result, timeline: [tick(0, 1000, 1000), tick(1, 700, 700), tick(2, 200, 30)] });
  const throughput = charts.find((chart) => chart.id === 'throughput');
  assert.deepEqual(throughput?.series.map((series) => [series.label, series.values]), [['requests/s', [1000, 1000, null]], ['errors/s', [100, 100, null]]]);
  assert.match(throughput?.note ?? '', /^Rates are counts per second of each interval's own length\. Intervals shorter than 0\.5 s \(half the 1 s report interval\)/);
});

test('percentile charts: one per metric, log latency axis, service time beside corrected latency in the open model', () => {
  const closed = chartsFor(result).filter((chart) => chart.distribution);
  assert.deepEqual(closed.map((chart) => [chart.id, chart.title, chart.logY, chart.series.map((series) => series.label)]), [
    ['distribution', 'HTTP request latency by percentile', true, ['latency']],
  ]);
  const open = chartsFor({ ...result, summary: { ...result.summary, model: 'open' } });
  assert.deepEqual(open.find((chart) => chart.id === 'distribution')?.series.map((series) => series.label), ['latency, corrected (from the intended send)', 'service time (from the actual send)']);
  assert.equal(open.find((chart) => chart.id === 'latency-over-time')?.title, 'HTTP request latency (corrected) per interval: p50, p90, p99');
  const html = renderHtml(result);
  assert.match(html, /<div class="chart" id="chart-distribution" data-log-x="true" data-log-y="true"><h3>HTTP request latency by percentile<\/h3>/);
  assert.match(html, /<div class="chart" id="chart-throughput" data-log-x="false" data-log-y="false"><h3>HTTP requests and errors per second<\/h3><p class="note">Rates are/);
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

/** One agent's health in one interval, as an agent reports it. */
function intervalHealth(agent: number, index: number, loopP99Ms: number, cpu: number): AgentIntervalHealth {
  return {
    agent, index, startMs: 1000 * index, endMs: 1000 * (index + 1),
    loopDelayMs: { p50: loopP99Ms / 4, p99: loopP99Ms, max: loopP99Ms * 2 }, elu: cpu, cpu, rssMb: 120, heapMb: 40, connecting: 0, connectsStarted: 0, connectsBehind: 0,
  };
}

/**
 * The real run's result with its self-health replaced by the given one
 * (agent id → one loop p99 and CPU per interval), judged by the real verdict.
 */
function withHealth(base: RunResult, intervals: ReadonlyMap<number, readonly [number, number][]>, lateMs: ReadonlyMap<number, number> = new Map()): RunResult {
  const health = new Map([...intervals].map(([agent, list]) => [agent, list.map(([p99, cpu], index) => intervalHealth(agent, index, p99, cpu))]));
  return {
    ...base,
    summary: { ...base.summary, generator: judgeGenerator(health, lateMs) },
    agents: base.agents.map((agent) => ({ ...agent, health: summarizeAgentHealth(health.get(agent.id) ?? [], lateMs.get(agent.id) ?? 0) })),
    timeline: base.timeline.map((entry, index) => ({ ...entry, health: [...health.values()].flatMap((list) => list.filter((each) => each.index === index)) })),
  };
}

const calmIntervals: [number, number][] = Array.from({ length: 10 }, (_, index) => [index === 3 ? 3.1 : 2, 0.41]);
/** Agent 1 of 2 past the loop-delay limit in 7 of 10 intervals (1–7: interval 0 is the warm-up, judged on stalls only). */
const calm = (): RunResult => withHealth(result, new Map([[0, calmIntervals], [1, calmIntervals]]));
const saturated = (): RunResult => withHealth(result, new Map([[0, calmIntervals], [1, calmIntervals.map(([p99, cpu], index) => (index >= 1 && index <= 7 ? [120, 0.9] : [p99, cpu]))]]));

test('every result carries spear\'s verdict on itself, and the text summary states it', async () => {
  assert.equal(typeof result.summary.generator.saturated, 'boolean');
  assert.equal(result.agents.length, 2);
  for (const agent of result.agents) assert.ok(agent.health.intervals > 0, `agent ${agent.id} reported its health`);
  assert.ok(result.timeline.some((entry) => entry.health.length > 0));
  assert.deepEqual(result.thresholds, [{ threshold: 'saturated <= 2', ok: true, actual: result.summary.generator.agents.length, unit: 'count' }]);
  const report = await runSpear(['report', resultFile]);
  assert.match(report.stdout, result.summary.generator.saturated ? /^WARNING: spear was the bottleneck/m : /^ {2}Generator: ok, max load-loop delay p99 /m);
});

test('a saturated run says spear was the bottleneck, who, why and the fix; a calm one says ok in one line', async () => {
  const file = join(dir.path, 'saturated.json');
  await writeFile(file, JSON.stringify(saturated()));
  const report = await runSpear(['report', file]);
  assert.equal(report.code, 0, report.stderr);
  const lines = report.stdout.split('\n');
  assert.equal(lines[1], 'WARNING: spear was the bottleneck, not (only) the server: agent 1 (of 2) could not keep up.');
  assert.match(lines[2] ?? '', /^ {2}agent 1: 7 of 10 intervals saturated \(first: load-loop delay p99 120 ms > 50 ms, in interval 1\); load-loop delay p99 up to 120 ms, CPU mean \d+% max 90%/);
  assert.match(report.stdout, /in intervals 1–7 include spear's own queueing/);
  assert.match(report.stdout, /Fix: use more agents \(--agents N, or agents on more hosts\), fewer users or connections per agent, or a lower rate\./);
  assert.doesNotMatch(report.stdout, /Generator: ok/);

  const text = renderTextSummary(calm());
  assert.match(text, /^ {2}Generator: ok, max load-loop delay p99 3\.1 ms, CPU max 41%$/m);
  assert.doesNotMatch(text, /WARNING/);
});

test('the JSON summary carries the verdict and each agent\'s health', async () => {
  const file = join(dir.path, 'saturated-for-json.json');
  await writeFile(file, JSON.stringify(saturated()));
  const report = await runSpear(['report', file, '--format', 'json']);
  assert.equal(report.code, 0, report.stderr);
  const summary = JSON.parse(report.stdout) as { summary: RunResult['summary']; agents: RunResult['agents'] };
  assert.equal(summary.summary.generator.saturated, true);
  assert.deepEqual(summary.summary.generator.agents, [1]);
  assert.equal(summary.agents[1]?.health.saturatedIntervals, 7);
  assert.equal(summary.agents[0]?.health.saturatedIntervals, 0);
});

test('"saturated < 1" fails a run in which spear was the bottleneck and holds otherwise', () => {
  const threshold = parseThreshold('saturated < 1');
  assert.ok(typeof threshold !== 'string', String(threshold));
  assert.deepEqual(evaluateThresholds([threshold], saturated().summary), [{ threshold: 'saturated < 1', ok: false, actual: 1, unit: 'count' }]);
  assert.deepEqual(evaluateThresholds([threshold], calm().summary), [{ threshold: 'saturated < 1', ok: true, actual: 0, unit: 'count' }]);
  assert.equal(parseThreshold('saturated < 1%'), 'saturated cannot be a percentage, got "1%"');
  // A late agent (heartbeats, no reports for 2 s or more) is saturated too.
  const late = withHealth(result, new Map([[0, calmIntervals], [1, calmIntervals]]), new Map([[1, 4200]]));
  assert.equal(evaluateThresholds([threshold], late.summary)[0]?.ok, false);
  assert.match(renderTextSummary(late), /agent 1: .*interval reports up to 4\.2 s late \(heartbeats arrived: busy, not lost\)/);
});

test('--compare warns when either run was saturated, and --fail-if can gate on it', async () => {
  const baselineFile = join(dir.path, 'saturated-baseline.json');
  const calmFile = join(dir.path, 'calm.json');
  await writeFile(baselineFile, JSON.stringify(saturated()));
  await writeFile(calmFile, JSON.stringify(calm()));
  const report = await runSpear(['report', calmFile, '--compare', baselineFile]);
  assert.equal(report.code, 0, report.stderr);
  assert.match(report.stdout, /WARNING: the baseline saturated-baseline\.json was saturated \(spear was the bottleneck on agent 1\): this comparison is suspect/);
  assert.doesNotMatch(report.stdout, /the current run calm\.json was saturated/);
  assert.match(report.stdout, /^ {2}saturated\s+1\s+0\s+-100\.0%$/m);
  const gated = await runSpear(['report', baselineFile, '--compare', calmFile, '--fail-if', 'saturated > 0']);
  assert.equal(gated.code, 99, gated.stderr);
  assert.equal(compareResults(calm(), calm()).find((metric) => metric.name === 'saturated')?.regression, false);
});

test('the HTML report shows the verdict banner, the self-health charts and the agents\' health', () => {
  const html = renderHtml(saturated());
  assert.match(html, /<div class="verdict warn"><strong>WARNING: spear was the bottleneck/);
  assert.match(html, /id="chart-self-loop"/);
  assert.match(html, /id="chart-self-cpu"/);
  assert.match(html, /<th>loop delay p99 max<\/th>/);
  assert.match(html, /<td>7 \/ 10<\/td><td>120 ms<\/td>/);
  assert.match(renderHtml(calm()), /<div class="verdict ok">Generator: ok/);
});

test('live lines show an agent saturated in an interval, and a late agent until it catches up', () => {
  const stream = new PassThrough();
  let written = '';
  stream.on('data', (chunk: Buffer) => {
    written += chunk.toString();
  });
  const progress = createProgress('lines', stream as unknown as NodeJS.WriteStream);
  const entry = result.timeline[0]!;
  const counters = { requests: entry.requests, bytesRead: 0, statuses: {}, errors: {}, scheduled: 0, dropped: 0, inFlight: 0, connections: entry.connections };
  progress.started?.({ agents: 2, startAtMs: entry.startMs, durationMs: 1000 });
  progress.interval?.({
    index: 0, startMs: entry.startMs, endMs: entry.endMs, agents: 2, counters, latencyMs: result.summary.latencyMs, latency: entry.histogram, sessions: undefined,
    health: [intervalHealth(0, 1, 2, 0.3), intervalHealth(1, 1, 120, 0.5), intervalHealth(2, 1, 3, 0.97)], saturatedAgents: 2,
  });
  progress.agentLate?.({ id: 1, lateMs: 4200 });
  progress.agentLate?.({ id: 1, lateMs: 4900 });
  progress.agentLate?.({ id: 1, lateMs: 0 });
  progress.close();
  const lines = written.trim().split('\n');
  assert.match(lines[1] ?? '', /SPEAR BUSY: agent 1 load-loop delay p99 120 ms > 50 ms; agent 2 load loop busy 97% of the time \(≥ 90%\)$/);
  assert.match(lines[2] ?? '', /^spear: agent 1 late 4s \(busy\): its heartbeats arrive but its interval reports do not; not lost/);
  assert.equal(lines[3], 'spear: agent 1 caught up (its reports ran up to 4.9s late)');
  assert.equal(lines.length, 4);
});
