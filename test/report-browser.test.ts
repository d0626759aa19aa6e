import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { test } from 'node:test';
import { chromium, type BrowserContext } from 'playwright-core';
import type { ChartSpec } from '../src/report/html-charts.js';
import type { RunResult, TimelineEntry } from '../src/report/result.js';
import { caseBScenario, writeScenario } from './support/case-b.js';
import { startHttpServer } from './servers/http-server.js';
import { startSocketIoServer } from './servers/socketio-server.js';
import { readJson, runSpear, tempDir } from './support/spear.js';

/** Debian's chromium (.ci/run installs it with apt when missing). */
const browserPath = ['/usr/bin/chromium', '/usr/bin/chromium-browser'].find((path) => existsSync(path));
/** Screenshots land here, outside the temp dirs tests remove. */
const outputDir = fileURLToPath(new URL('../../test-output/', import.meta.url));

/** One chart as the page drew it: painted pixels, its heading, its log axes (attributes and uPlot's own scales). */
interface DrawnChart {
  readonly id: string;
  readonly painted: number;
  readonly heading: string;
  readonly logX: string | null;
  readonly logY: string | null;
  readonly distrX: number | null;
  readonly distrY: number | null;
}

/** What a report page showed: its charts, the data fed to uPlot, its text, and anything that went wrong. */
interface Page {
  readonly charts: DrawnChart[];
  readonly data: { charts: ChartSpec[] };
  readonly text: string;
  readonly problems: string[];
  readonly requests: string[];
}

// Runs in the page (a string: the tests compile without DOM types). Counts painted pixels per chart canvas.
const inspect = `[...document.querySelectorAll('.chart')].map((chart) => {
  const canvas = chart.querySelector('canvas');
  let painted = 0;
  if (canvas !== null) {
    const pixels = canvas.getContext('2d').getImageData(0, 0, canvas.width, canvas.height).data;
    for (let at = 3; at < pixels.length; at += 4) if (pixels[at] > 0) painted += 1;
  }
  const plot = window.spearPlots[chart.id.slice('chart-'.length)];
  return {
    id: chart.id, painted, heading: chart.querySelector('h3')?.textContent ?? '',
    logX: chart.getAttribute('data-log-x'), logY: chart.getAttribute('data-log-y'),
    distrX: plot?.scales.x.distr ?? null, distrY: plot?.scales.y.distr ?? null,
  };
})`;

/** Opens a report offline (any network request is refused and recorded) and reads what it drew. */
async function openReport(context: BrowserContext, html: string, screenshot: string): Promise<Page> {
  const page = await context.newPage();
  const problems: string[] = [];
  page.on('console', (message) => {
    if (message.type() === 'error') problems.push(message.text());
  });
  page.on('pageerror', (error) => problems.push(error.message));
  const requests: string[] = [];
  await page.route('**/*', (route) => {
    const url = route.request().url();
    if (url.startsWith('file:')) return route.continue();
    requests.push(url);
    return route.abort();
  });
  await page.goto(`file://${html}`);
  await page.waitForLoadState('load');
  const charts = await page.evaluate(inspect) as DrawnChart[];
  const data = JSON.parse(await page.textContent('#spear-data') ?? '{}') as { charts: ChartSpec[] };
  const text = await page.textContent('body') ?? '';
  await mkdir(outputDir, { recursive: true });
  await page.screenshot({ path: join(outputDir, screenshot), fullPage: true });
  await page.close();
  return { charts, data, text, problems, requests };
}

/** Every chart drew, nothing failed and nothing was fetched. */
function assertDrawn(page: Page, ids: readonly string[]): void {
  assert.deepEqual(page.charts.map((chart) => chart.id), ids.map((id) => `chart-${id}`));
  for (const chart of page.charts) {
    assert.ok(chart.painted > 500, `${chart.id} drew only ${chart.painted} pixels`);
    assert.ok(chart.heading.length > 10, `${chart.id} has a heading`);
    const percentiles = chart.id.endsWith('-distribution') || chart.id === 'chart-distribution';
    // Percentile plots: both axes log (uPlot's distr 3), said on the element too; charts over time: linear.
    assert.deepEqual([chart.logX, chart.logY, chart.distrX, chart.distrY], percentiles ? ['true', 'true', 3, 3] : ['false', 'false', 1, 1], chart.id);
  }
  assert.deepEqual(page.problems, []);
  assert.deepEqual(page.requests, [], 'the report fetched nothing from the network');
}

function chartOf(page: Page, id: string): ChartSpec {
  const chart = page.data.charts.find((each) => each.id === id);
  assert.ok(chart !== undefined, `no chart ${id}`);
  return chart;
}

/**
 * A rate chart's series are the rate rule applied to the result's timeline:
 * each count per second of its interval's own length, or left out (null)
 * when the interval is shorter than half the report interval.
 */
function assertRates(chart: ChartSpec, result: RunResult, counts: (entry: TimelineEntry) => number[]): void {
  const expected = chart.series.map((_, index) => result.timeline.map((entry) => {
    const ms = entry.endMs - entry.startMs;
    return ms >= result.scenario.intervalMs / 2 ? Math.round(((counts(entry)[index] ?? Number.NaN) * 1000 / ms) * 1000) / 1000 : null;
  }));
  assert.deepEqual(chart.series.map((series) => series.values), expected, chart.id);
}

test('the HTML report opens offline in a real browser and every chart draws: HTTP closed, open model, Socket.IO', { skip: browserPath === undefined ? 'no chromium at /usr/bin/chromium: install it (apt-get install chromium) to run the browser test' : false }, async () => {
  const dir = await tempDir();
  const server = await startSocketIoServer({ version: 4 });
  // Each response held 5 ms: the HTTP runs stay light, leaving the event loop the Socket.IO server shares with them calm.
  const http = await startHttpServer({ delayMs: { '/': 5 } });
  const profile = await mkdtemp(join(tmpdir(), 'spear-chromium-'));
  try {
    // A user's first broadcast leaves about 2 s after it joined (1 s sleep, then the 1 s every); on a loaded
    // 2-core CI host joining alone took 1–3 s, and a 3 s hold once ended before any broadcast. 8 s leaves 6 s to join.
    const scenario = await writeScenario(dir.path, 'case-b.yaml', caseBScenario({ target: server.url, eio: 4, users: 20, groupSize: 10, hold: '8s', every: '1s' }));
    const files = { socketio: join(dir.path, 'run.json'), closed: join(dir.path, 'closed.json'), open: join(dir.path, 'open.json') };
    // The three runs at once: the HTTP ones end while the Socket.IO one holds its users.
    // Their final intervals are partial (2.3 s, 1.7 s); report.test.ts pins the rate rule on exact interval lengths.
    const runs = await Promise.all([
      runSpear(['run', scenario, '--agents', '2', '--quiet', '--out', files.socketio, '--report', 'html']),
      runSpear(['run', http.url, '-c', '4', '-d', '2.3s', '--agents', '1', '--quiet', '--out', files.closed, '--report', 'html']),
      runSpear(['run', http.url, '-R', '400/s', '-c', '10', '-d', '1.7s', '--agents', '1', '--quiet', '--out', files.open, '--report', 'html']),
    ]);
    for (const run of runs) assert.equal(run.code, 0, run.stderr);
    assert.ok(existsSync(join(dir.path, 'run.html')), 'spear run --report html wrote run.html beside the result');
    const results = {
      socketio: await readJson(files.socketio) as RunResult,
      closed: await readJson(files.closed) as RunResult,
      open: await readJson(files.open) as RunResult,
    };
    // The delivery-over-time chart reads timeline[].sessions.deliveryMs; where a coordinator did not merge delivery per interval, the run's p50/p99 stand in.
    const broadcast = results.socketio.summary.broadcast?.latencyMs;
    assert.ok(broadcast !== undefined && broadcast.count > 0, 'the Socket.IO run delivered broadcasts');
    const withDelivery = {
      ...results.socketio,
      timeline: results.socketio.timeline.map((entry) => (entry.sessions === undefined || entry.sessions.deliveryMs !== undefined ? entry : {
        ...entry, sessions: { ...entry.sessions, deliveryMs: { count: entry.sessions.delivered, p50: broadcast.p50, p90: broadcast.p90, p99: broadcast.p99, max: broadcast.max } },
      })),
    };
    await writeFile(join(dir.path, 'delivery.json'), JSON.stringify(withDelivery));
    const rendered = await runSpear(['report', join(dir.path, 'delivery.json'), '--format', 'html', '--out', join(dir.path, 'delivery.html')]);
    assert.equal(rendered.code, 0, rendered.stderr);

    const context = await chromium.launchPersistentContext(profile, {
      executablePath: browserPath!,
      headless: true,
      args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking'],
      offline: true,
    });
    // Waits, not assertions: on a loaded host loading and screenshotting a page can pass Playwright's 30 s default.
    context.setDefaultTimeout(120_000);
    try {
      const closed = await openReport(context, join(dir.path, 'closed.html'), 'report-closed.png');
      assertDrawn(closed, ['throughput', 'latency-over-time', 'connections', 'distribution', 'self-loop', 'self-cpu']);
      assert.equal(closed.charts.find((chart) => chart.id === 'chart-distribution')?.heading, 'HTTP request latency by percentile');
      assert.equal(closed.charts.find((chart) => chart.id === 'chart-throughput')?.heading, 'HTTP requests and errors per second');
      // The rates fed to uPlot follow the rule (per second of each interval's own length, short ones left out) whatever this machine's load made the intervals.
      assertRates(chartOf(closed, 'throughput'), results.closed, (entry) => [entry.requests, entry.errors + entry.statusErrors]);
      assert.match(chartOf(closed, 'throughput').note ?? '', /shorter than 0\.5 s \(half the 1 s report interval\).*are left out/);

      const open = await openReport(context, join(dir.path, 'open.html'), 'report-open.png');
      assertDrawn(open, ['throughput', 'latency-over-time', 'connections', 'distribution', 'self-loop', 'self-cpu']);
      const percentiles = chartOf(open, 'distribution');
      assert.equal(percentiles.title, 'HTTP request latency (corrected) and service time by percentile');
      assert.deepEqual(percentiles.series.map((series) => series.label), ['latency, corrected (from the intended send)', 'service time (from the actual send)']);
      assert.match(chartOf(open, 'latency-over-time').title, /corrected/);
      assertRates(chartOf(open, 'throughput'), results.open, (entry) => [entry.requests, entry.errors + entry.statusErrors]);

      const socketio = await openReport(context, join(dir.path, 'delivery.html'), 'report.png');
      assertDrawn(socketio, ['throughput', 'latency-over-time', 'users', 'messages', 'delivery-over-time', 'distribution', 'connect-distribution', 'reply-distribution', 'delivery-distribution', 'self-loop', 'self-cpu']);
      assert.deepEqual(socketio.charts.filter((chart) => chart.id.endsWith('distribution')).map((chart) => chart.heading), [
        'HTTP step latency by percentile', 'Socket.IO connect time by percentile', 'Socket.IO reply time by percentile', 'Broadcast delivery latency by percentile',
      ]);
      assertRates(chartOf(socketio, 'messages'), results.socketio, (entry) => [entry.sessions?.messagesReceived ?? 0, entry.sessions?.delivered ?? 0, entry.sessions?.opened ?? 0, entry.sessions?.disconnects ?? 0]);
      assert.match(socketio.text, /Broadcasts/);
      assert.match(socketio.text, /spear self-health/);
      assert.match(socketio.text, /Generator: ok|WARNING: spear was the bottleneck/);
    } finally {
      await context.close();
    }
  } finally {
    await server.close();
    await http.close();
    await dir.cleanup();
    await rm(profile, { recursive: true, force: true });
  }
});

