import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { test } from 'node:test';
import { chromium } from 'playwright-core';
import { caseBScenario, writeScenario } from './support/case-b.js';
import { startSocketIoServer } from './servers/socketio-server.js';
import { runSpear, tempDir } from './support/spear.js';

/** Debian's chromium (.ci/run installs it with apt when missing). */
const browserPath = ['/usr/bin/chromium', '/usr/bin/chromium-browser'].find((path) => existsSync(path));
/** Screenshots land here, outside the temp dirs tests remove. */
const outputDir = fileURLToPath(new URL('../../test-output/', import.meta.url));

test('the HTML report opens offline in a real browser and every chart draws', { skip: browserPath === undefined ? 'no chromium at /usr/bin/chromium: install it (apt-get install chromium) to run the browser test' : false }, async () => {
  const dir = await tempDir();
  const server = await startSocketIoServer({ version: 4 });
  const profile = await mkdtemp(join(tmpdir(), 'spear-chromium-'));
  try {
    const scenario = await writeScenario(dir.path, 'case-b.yaml', caseBScenario({ target: server.url, eio: 4, users: 20, groupSize: 10, hold: '3s', every: '1s' }));
    const result = join(dir.path, 'run.json');
    const run = await runSpear(['run', scenario, '--agents', '2', '--quiet', '--out', result, '--report', 'html']);
    assert.equal(run.code, 0, run.stderr);
    const html = join(dir.path, 'run.html');
    assert.ok(existsSync(html), 'spear run --report html wrote run.html beside the result');

    const context = await chromium.launchPersistentContext(profile, {
      executablePath: browserPath!,
      headless: true,
      args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking'],
      offline: true,
    });
    try {
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
      // Runs in the page (a string: the tests compile without DOM types). Counts painted pixels per chart canvas.
      const charts = await page.evaluate(`[...document.querySelectorAll('.chart')].map((chart) => {
        const canvas = chart.querySelector('canvas');
        if (canvas === null) return { id: chart.id, painted: 0 };
        const pixels = canvas.getContext('2d').getImageData(0, 0, canvas.width, canvas.height).data;
        let painted = 0;
        for (let at = 3; at < pixels.length; at += 4) if (pixels[at] > 0) painted += 1;
        return { id: chart.id, painted };
      })`) as { id: string; painted: number }[];
      assert.deepEqual(charts.map((chart) => chart.id), ['chart-throughput', 'chart-latency-over-time', 'chart-users', 'chart-messages', 'chart-distribution', 'chart-self-loop', 'chart-self-cpu']);
      for (const chart of charts) assert.ok(chart.painted > 500, `${chart.id} drew only ${chart.painted} pixels`);
      assert.deepEqual(problems, []);
      assert.deepEqual(requests, [], 'the report fetched nothing from the network');
      const text = await page.textContent('body');
      assert.match(text ?? '', /Broadcasts/);
      assert.match(text ?? '', /spear self-health/);
      assert.match(text ?? '', /Generator: ok|WARNING: spear was the bottleneck/);
      await mkdir(outputDir, { recursive: true });
      await page.screenshot({ path: join(outputDir, 'report.png'), fullPage: true });
    } finally {
      await context.close();
    }
  } finally {
    await server.close();
    await dir.cleanup();
    await rm(profile, { recursive: true, force: true });
  }
});
