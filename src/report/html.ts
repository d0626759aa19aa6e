import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import type { LatencySummaryMs } from '../metrics/histogram.js';
import type { ComparedMetric } from './compare.js';
import { chartsFor } from './html-charts.js';
import { comparisonWarning, selfHealthSection, verdictBanner } from './html-health.js';
import { chartBlock, escapeHtml as escape, table } from './html-table.js';
import type { RunResult } from './result.js';
import { queueOf, verdictOf } from './self-health.js';
import { formatBytes, formatMs } from './text-summary.js';

const require = createRequire(import.meta.url);

/** uPlot's script and stylesheet, inlined so the report opens offline. */
function uplotAssets(): { script: string; style: string } {
  return {
    script: readFileSync(require.resolve('uplot/dist/uPlot.iife.min.js'), 'utf8'),
    style: readFileSync(require.resolve('uplot/dist/uPlot.min.css'), 'utf8'),
  };
}

/** JSON safe inside a <script> element. */
function scriptJson(value: unknown): string {
  return JSON.stringify(value).replace(/</g, '\\u003c');
}

function latencyRow(label: string, latency: LatencySummaryMs): string[] {
  return [label, String(latency.count), ...[latency.p50, latency.p90, latency.p95, latency.p99, latency.p999, latency.max, latency.mean].map(formatMs)];
}

function summaryTables(result: RunResult): string {
  const s = result.summary;
  const parts: string[] = [];
  const facts: string[][] = [['duration', `${s.durationS.toFixed(2)} s`]];
  if (s.requests > 0) facts.push(['requests', String(s.requests)], ['requests/s', s.rps.toFixed(1)], ['transfer/s', formatBytes(s.transferPerS)]);
  if (s.connections !== undefined) {
    const c = s.connections;
    facts.push(['users', String(c.users)], ['connections opened / failed', `${c.opened} / ${c.failed}`], ['disconnects / reconnects', `${c.disconnects} / ${c.reconnects}`], ['peak connected', String(c.peak)], ['all connected after', c.timeToAllConnectedMs === null ? 'never' : formatMs(c.timeToAllConnectedMs)]);
  }
  if (s.messages !== undefined) facts.push(['messages sent / received', `${s.messages.sent} / ${s.messages.received}`]);
  facts.push(['errors', `${s.errors.total} (${(s.errorRate * 100).toFixed(2)}%)`]);
  parts.push(table(['', ''], facts, 'facts'));
  const latency: string[][] = [];
  if (s.requests > 0) latency.push(latencyRow(s.model === 'users' ? 'HTTP steps' : 'request latency', s.latencyMs));
  if (s.model === 'open') latency.push(latencyRow('service time', s.serviceTimeMs));
  const queue = queueOf(result);
  if (queue !== undefined) latency.push(latencyRow('waited inside spear (not in latency)', queue));
  if (s.connectMs !== undefined && s.connectMs.count > 0) latency.push(latencyRow('connect', s.connectMs));
  if (s.replyMs !== undefined && s.replyMs.count > 0) latency.push(latencyRow('reply', s.replyMs));
  if (s.broadcast !== undefined) latency.push(latencyRow('delivery', s.broadcast.latencyMs), latencyRow('to first member', s.broadcast.firstMemberMs), latencyRow('to last member', s.broadcast.lastMemberMs));
  if (latency.length > 0) parts.push(table(['latency', 'count', 'p50', 'p90', 'p95', 'p99', 'p99.9', 'max', 'mean'], latency));
  const errors = Object.entries(s.errorCodes).sort((a, b) => b[1] - a[1]).map(([key, count]) => [key, String(count)]);
  const statuses = Object.entries(s.statusCodes).map(([status, count]) => [`status ${status}`, String(count)]);
  if (errors.length + statuses.length > 0) parts.push(table(['code', 'count'], [...statuses, ...errors]));
  return parts.join('\n');
}

/** One row per request name (runs with several names only), in the scenario's order. */
function requestsTable(result: RunResult): string {
  const byRequest = result.summary.byRequest;
  if (byRequest === undefined) return '';
  const rows = Object.entries(byRequest).map(([name, entry]) => [
    name, String(entry.requests), entry.rps.toFixed(1), String(entry.errors), `${(entry.errorRate * 100).toFixed(2)}%`,
    ...[entry.latencyMs.p50, entry.latencyMs.p95, entry.latencyMs.p99, entry.latencyMs.max, entry.latencyMs.mean].map(formatMs),
  ]);
  return `<h2>Requests</h2>${table(['request', 'count', 'requests/s', 'errors', 'error rate', 'p50', 'p95', 'p99', 'max', 'mean'], rows, 'requests')}`;
}

function broadcastTables(result: RunResult): string {
  const b = result.summary.broadcast;
  if (b === undefined) return '';
  // `unverified`: copies missing at an agent saturated during the window, not blamed on the server. Results written before it lack it.
  const unverified = (b as { readonly unverified?: number }).unverified;
  const extra = unverified === undefined ? [] : ['unverified (spear saturated)'];
  const verified = (count: number | undefined): string[] => (unverified === undefined ? [] : [String(count ?? 0)]);
  const totals = table(['sent', 'expected', 'delivered', 'lost', ...extra, 'late', 'duplicated', 'out of order', 'non-member', 'clock ±'],
    [[b.sent, b.expected, b.delivered, b.lost].map(String).concat(verified(unverified), [b.late, b.duplicated, b.outOfOrder, b.nonMember].map(String), formatMs(b.clockUncertaintyMs))]);
  const groups = table(['group', 'sent', 'expected', 'delivered', 'lost', ...extra, 'late', 'duplicated', 'reach'],
    b.groups.map((group) => [group.group, group.sent, group.expected, group.delivered, group.lost].map(String)
      .concat(verified((group as { readonly unverified?: number }).unverified), [group.late, group.duplicated].map(String))
      .concat(group.expected > 0 ? `${((100 * (group.delivered + group.late)) / group.expected).toFixed(2)}%` : '–')));
  return `<h2>Broadcasts</h2>${totals}<h3>Per group</h3>${groups}`;
}

function comparisonTable(metrics: readonly ComparedMetric[] | undefined, baseline: string | undefined): string {
  if (metrics === undefined) return '';
  const rows = metrics.map((metric) => [
    metric.name, String(round(metric.baseline)), String(round(metric.current)),
    metric.deltaPercent === null ? String(round(metric.delta)) : `${metric.deltaPercent > 0 ? '+' : ''}${metric.deltaPercent.toFixed(1)}%`,
    metric.regression ? 'REGRESSION' : '',
  ]);
  return `<h2>Compared with ${escape(baseline ?? 'the baseline')}</h2>${comparisonWarning(metrics)}${table(['metric', 'baseline', 'this run', 'change', ''], rows, 'compare')}`;
}

function round(value: number): number {
  return Math.round(value * 1000) / 1000;
}

/**
 * Draws every chart of #spear-data with uPlot. Percentile plots put
 * 1/(1−p) on a log x axis labelled as percentiles; logY charts a log y.
 * The uPlot instances stay reachable as window.spearPlots (by chart id).
 */
const pageScript = `
const data = JSON.parse(document.getElementById('spear-data').textContent);
const colors = ['#1f77b4', '#d62728', '#2ca02c', '#ff7f0e', '#9467bd'];
const percent = (v) => { const p = 100 * (1 - 1 / v); return (p >= 99.99 ? p.toFixed(4) : p >= 99 ? p.toFixed(2) : p.toFixed(0)) + '%'; };
const plots = {};
for (const chart of data.charts) {
  const host = document.querySelector('#chart-' + chart.id + ' .plot');
  const options = {
    width: Math.min(960, window.innerWidth - 40), height: 280,
    scales: {
      x: chart.distribution ? { time: false, distr: 3, log: 10 } : { time: false },
      y: chart.logY ? { distr: 3, log: 10 } : {},
    },
    axes: [
      chart.distribution
        ? { label: chart.xLabel, splits: () => [1, 10, 100, 1e3, 1e4, 1e5, 1e6], values: (u, values) => values.map(percent) }
        : { label: chart.xLabel },
      { label: chart.yLabel, size: 60 },
    ],
    series: [{ label: chart.xLabel, value: chart.distribution ? (u, v) => v == null ? '' : percent(v) : undefined }]
      .concat(chart.series.map((s, i) => s.limit
        ? { label: s.label, stroke: '#888', width: 1, dash: [6, 4], points: { show: false } }
        : { label: s.label, stroke: colors[i % colors.length], width: 2, spanGaps: true })),
  };
  plots[chart.id] = new uPlot(options, [chart.x].concat(chart.series.map((s) => s.values)), host);
}
window.spearPlots = plots;
`;

/** The self-health charts live in their own section, beside the agent table. */
function selfHealth(chartId: string): boolean {
  return chartId.startsWith('self-');
}

/** The self-contained HTML report (no network needed to open it). */
export function renderHtml(result: RunResult, comparison?: { baseline: string; metrics: readonly ComparedMetric[] }): string {
  const { script, style } = uplotAssets();
  const charts = chartsFor(result);
  const title = `spear: ${result.name ?? result.scenario.target}`;
  const badges = [result.partial ? 'partial: an agent was lost' : '', result.interrupted ? 'interrupted' : '', verdictOf(result)?.saturated === true ? 'spear was the bottleneck' : ''].filter((text) => text !== '');
  const thresholds = result.thresholds.length === 0 ? '' : `<h2>Thresholds</h2>${table(['threshold', 'actual', 'result'], result.thresholds.map((threshold) => [threshold.threshold, `${round(threshold.actual)} ${threshold.unit}`, threshold.ok ? 'pass' : 'FAIL']), 'thresholds')}`;
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>${escape(title)}</title>
<style>${style}
body { font: 14px/1.4 system-ui, sans-serif; margin: 20px; color: #222; }
table { border-collapse: collapse; margin: 8px 0 16px; } th, td { border: 1px solid #ccc; padding: 3px 8px; text-align: right; }
th:first-child, td:first-child { text-align: left; } .badge { background: #fdd; padding: 2px 8px; margin-left: 8px; border-radius: 4px; }
.thresholds td:last-child, .compare td:last-child { font-weight: bold; } .chart { margin: 12px 0 20px; }
.chart h3 { margin: 0 0 2px; font-size: 15px; } .chart .note { margin: 0 0 6px; max-width: 960px; color: #555; font-size: 13px; }
.verdict { padding: 6px 12px; margin: 8px 0 16px; border-left: 4px solid; } .verdict.ok { background: #eef7ee; border-color: #2ca02c; }
.verdict.warn { background: #fdd; border-color: #d62728; } .verdict ul { margin: 4px 0 0; padding-left: 20px; }
</style></head><body>
<h1>${escape(title)}${badges.map((badge) => `<span class="badge">${escape(badge)}</span>`).join('')}</h1>
<p>${escape(`${result.scenario.protocol} · ${result.summary.model} model · ${result.agents.length} agent(s) · ${result.startedAt} → ${result.endedAt} · spear ${result.spearVersion}`)}</p>
${verdictBanner(result)}
<h2>Summary</h2>
${summaryTables(result)}
${requestsTable(result)}
${thresholds}
${comparisonTable(comparison?.metrics, comparison?.baseline)}
<h2>Charts</h2>
${charts.filter((chart) => !selfHealth(chart.id)).map(chartBlock).join('\n')}
${broadcastTables(result)}
${selfHealthSection(result, charts.filter((chart) => selfHealth(chart.id)))}
<script type="application/json" id="spear-data">${scriptJson({ charts })}</script>
<script>${script}</script>
<script>${pageScript}</script>
</body></html>
`;
}
