import { errorKinds } from '../metrics/error-kind.js';
import type { LatencySummaryMs } from '../metrics/histogram.js';
import type { RunResult, TimelineEntry } from './result.js';
import { generatorOkLine, generatorWarning, healthOf, queueOf, verdictOf } from './self-health.js';

/** Renders milliseconds as wrk does: µs, ms or s with 2 decimals. */
export function formatMs(ms: number): string {
  if (ms < 1) return `${(ms * 1000).toFixed(0)}µs`;
  if (ms < 1000) return `${ms.toFixed(2)}ms`;
  return `${(ms / 1000).toFixed(2)}s`;
}

/** Renders bytes with binary units: "12.34MB". */
export function formatBytes(bytes: number): string {
  const units = ['B', 'KB', 'MB', 'GB', 'TB'];
  let value = bytes;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit += 1;
  }
  return `${value.toFixed(unit === 0 ? 0 : 2)}${units[unit]}`;
}

/** `width`: the label column; blocks printed together share one, so their columns line up. */
function latencyRows(label: string, latency: LatencySummaryMs, width = 14): string[] {
  const columns = ['p50', 'p75', 'p90', 'p95', 'p99', 'p99.9', 'max', 'mean', 'stdev'];
  const values = [latency.p50, latency.p75, latency.p90, latency.p95, latency.p99, latency.p999, latency.max, latency.mean, latency.stdev];
  return [
    `  ${label.padEnd(width)}${columns.map((column) => column.padStart(10)).join('')}`,
    `  ${''.padEnd(width)}${values.map((value) => formatMs(value).padStart(10)).join('')}`,
  ];
}

/** The end-of-run summary, wrk-like, for people. Pure. */
export function renderTextSummary(result: RunResult): string {
  const { summary, scenario } = result;
  const load = scenario.load;
  // An open-model journey starts iterations on a schedule: its latencies are corrected, as in the open HTTP model.
  const open = load.model === 'open' || (load.model === 'users' && load.arrivals !== undefined);
  const shape = load.model === 'closed'
    ? `closed model, ${load.connections} connections${load.pipelining > 1 ? ` (pipelining ${load.pipelining})` : ''}`
    : load.model === 'open'
      ? `open model, ${load.stages.length === 1 ? `${round(load.stages[0]?.ratePerS ?? 0)}/s` : `${load.stages.length} stages`} over up to ${load.connections} connections`
      : scenario.protocol === 'http-flow'
        ? load.arrivals === undefined
          ? `HTTP journey, ${load.users} users for ${formatMs(load.durationMs)}`
          : `HTTP journey, open model, ${load.arrivals.stages.length === 1 ? `${round(load.arrivals.stages[0]?.ratePerS ?? 0)} iterations/s` : `${load.arrivals.stages.length} stages`} on up to ${load.users} users for ${formatMs(load.durationMs)}`
        : `${scenario.protocol} users, ${load.users} held ${formatMs(load.holdMs)}`;
  const lines: string[] = [];
  lines.push(`spear ${result.spearVersion}: ${shape}, ${result.agents.length} agent${result.agents.length === 1 ? '' : 's'}, ${scenario.target}${result.interrupted ? ' (interrupted)' : ''}`);
  // Before any number: a reader must not take spear's own limits for the server's.
  lines.push(...generatorWarning(result));
  if (load.model === 'users' && scenario.protocol !== 'http-flow') {
    lines.push(...sessionLines(result));
    if (summary.requests > 0) {
      lines.push(...latencyRows('HTTP steps', summary.latencyMs));
      lines.push(`  ${summary.requests} flow HTTP requests`);
    }
  } else {
    // "Latency (corrected)" is wider than the usual label column: both open-model blocks widen it.
    const width = open ? 'Latency (corrected)'.length + 1 : 14;
    lines.push(...latencyRows(open ? 'Latency (corrected)' : 'Latency', summary.latencyMs, width));
    if (open) lines.push(...latencyRows('Service time', summary.serviceTimeMs, width));
    lines.push(`  ${summary.requests} requests in ${summary.durationS.toFixed(2)}s, ${formatBytes(summary.bytesRead)} read`);
    lines.push(`Requests/sec: ${summary.rps.toFixed(2)}`);
    lines.push(`Transfer/sec: ${formatBytes(summary.transferPerS)}`);
  }
  lines.push(...requestTable(result));
  const queue = queueOf(result);
  // An open journey times each step from when it was meant to start, so a wait inside spear is in its corrected latency (as in wrk2), never in its service time.
  const inLatency = open ? 'in corrected latency, not in service time' : 'not part of latency';
  if (queue !== undefined) lines.push(`  Waited inside spear: p50 ${formatMs(queue.p50)}, p99 ${formatMs(queue.p99)}, max ${formatMs(queue.max)} (${queue.count} waits for a pooled connection or a handshake slot; ${inLatency})`);
  const errors = summary.errors;
  if (errors.total > 0) {
    const kinds = errorKinds.filter((kind) => errors[kind] > 0 || ['connect', 'read', 'write', 'timeout'].includes(kind));
    lines.push(`  Errors: ${kinds.map((kind) => `${kind} ${errors[kind]}`).join(', ')}; non-2xx/3xx responses ${errors.status}`);
    for (const [key, count] of Object.entries(summary.errorCodes).sort((a, b) => b[1] - a[1])) {
      lines.push(`    ${key.padEnd(36)} ${count}`);
      const sample = summary.errorSamples?.[key];
      if (sample !== undefined) lines.push(`      e.g. ${sample}`);
    }
    for (const hint of summary.hints) lines.push(`    hint: ${hint}`);
  }
  const statuses = Object.entries(summary.statusCodes).map(([status, count]) => `${status}: ${count}`);
  if (statuses.length > 0) lines.push(`  Status codes: ${statuses.join(', ')}`);
  if (summary.arrivals !== undefined) {
    const why = scenario.protocol === 'http-flow'
      ? 'no idle user within load.maxDelay: iterations outlasted load.users ÷ rate, because the server slowed or load.users is too small'
      : 'no free connection within load.maxDelay';
    lines.push(`  ${scenario.protocol === 'http-flow' ? 'Iterations' : 'Arrivals'}: ${summary.arrivals.scheduled} scheduled, ${summary.arrivals.dropped} dropped (${why})`);
    const spears = summary.arrivals.droppedWhileSaturated ?? 0;
    if (spears > 0) lines.push(`    ${spears} of them by an agent in an interval it was saturated in: spear may have dropped those, not the server (see the warning above)`);
  }
  for (const agent of result.agents.filter((entry) => entry.status !== 'ok')) {
    lines.push(`  Agent ${agent.id} ${agent.status}: ${agent.reason ?? 'no reason given'} (its ${agent.requests} reported requests are counted)`);
  }
  const ok = generatorOkLine(result);
  // "ok" judges spear's load loops; a ramp held back without a saturated loop still left users unstarted, and the last line must not hide it.
  const unstarted = summary.connections?.neverStarted;
  if (ok !== undefined) lines.push(`  ${ok}${unstarted === undefined ? '' : `; yet its ramp left ${unstarted} users unstarted (see "Never started" above)`}`);
  if (result.thresholds.length > 0) {
    lines.push('  Thresholds:');
    for (const threshold of result.thresholds) {
      const actual = threshold.unit === 'ms' ? formatMs(threshold.actual) : threshold.unit === '%' ? `${threshold.actual.toFixed(2)}%` : round(threshold.actual).toString();
      lines.push(`    ${threshold.ok ? 'ok  ' : 'FAIL'} ${threshold.threshold} (actual ${actual})`);
    }
  }
  return `${lines.join('\n')}\n`;
}

/** Widest request name shown in the per-request table; longer ones are cut with "…". */
const requestNameWidth = 40;

/** Gatling-like: one row per request name (runs with several names only), in the scenario's order. */
function requestTable(result: RunResult): string[] {
  const byRequest = result.summary.byRequest;
  if (byRequest === undefined) return [];
  const entries = Object.entries(byRequest);
  const width = Math.min(requestNameWidth, Math.max(7, ...entries.map(([name]) => name.length)));
  const cell = (text: string): string => text.padStart(10);
  const lines = [`  ${'Request'.padEnd(width)}${['count', 'errors', 'p50', 'p95', 'p99', 'max'].map(cell).join('')}`];
  for (const [name, entry] of entries) {
    const shown = name.length > width ? `${name.slice(0, width - 1)}…` : name;
    const latency = entry.latencyMs;
    lines.push(`  ${shown.padEnd(width)}${[String(entry.requests), `${(entry.errorRate * 100).toFixed(2)}%`, ...[latency.p50, latency.p95, latency.p99, latency.max].map(formatMs)].map(cell).join('')}`);
  }
  return lines;
}

function sessionLines(result: RunResult): string[] {
  const { summary } = result;
  const lines: string[] = [];
  const connections = summary.connections;
  if (connections !== undefined) {
    const all = connections.timeToAllConnectedMs === null ? 'not every user connected' : `all ${connections.users} connected after ${formatMs(connections.timeToAllConnectedMs)}`;
    lines.push(`  Connections: ${connections.opened} opened, ${connections.failed} failed, ${connections.disconnects} dropped, ${connections.reconnects} reconnected; peak ${connections.peak}; ${all}`);
    if (connections.neverStarted !== undefined) lines.push(`  ${neverStartedLine(result, connections.neverStarted, connections.users)}`);
    const rate = connections.connectRate;
    if (rate !== undefined && Number.isFinite(rate.askedPerS) && rate.askedPerS > 0) {
      // A ramp shorter than one interval cannot show its rate in one interval's count.
      const reachable = Math.min(rate.askedPerS, (connections.users * 1000) / result.scenario.intervalMs);
      const short = rate.achievedPerS < 0.8 * reachable ? ' (spear could not connect as fast as asked: see the generator verdict)' : '';
      lines.push(`  Connect rate: asked ${Math.round(rate.askedPerS)}/s, achieved up to ${rate.achievedPerS}/s${short}`);
    }
  }
  if (summary.connectMs !== undefined && summary.connectMs.count > 0) lines.push(...latencyRows('Connect', summary.connectMs));
  if (summary.replyMs !== undefined && summary.replyMs.count > 0) lines.push(...latencyRows('Reply', summary.replyMs));
  if (summary.messages !== undefined) lines.push(`  Messages: ${summary.messages.sent} sent, ${summary.messages.received} received in ${summary.durationS.toFixed(2)}s`);
  const broadcast = summary.broadcast;
  if (broadcast !== undefined) {
    lines.push(...latencyRows('Delivery', broadcast.latencyMs));
    // `unverified`: copies missing at an agent saturated during the window, not blamed on the server. Results written before it lack it.
    const unverified = (broadcast as { readonly unverified?: number }).unverified;
    const unread = unverified === undefined || unverified === 0 ? '' : `, ${unverified} unverified (never read by a saturated agent: not blamed on the server)`;
    lines.push(`  Broadcasts: ${broadcast.sent} sent, ${broadcast.expected} deliveries expected, ${broadcast.delivered} delivered, ${broadcast.lost} lost${unread}, ${broadcast.late} late, ${broadcast.duplicated} duplicated, ${broadcast.outOfOrder} out of order, ${broadcast.nonMember} to non-members`);
    lines.push(`  Time to first member p99 ${formatMs(broadcast.firstMemberMs.p99)}, to last member p99 ${formatMs(broadcast.lastMemberMs.p99)}; clock uncertainty ±${formatMs(broadcast.clockUncertaintyMs)}`);
  }
  return lines;
}

/**
 * "Never started: 400 of 2000 users (why): …": why, as far as the result
 * tells, and always as spear's doing, never the server's (the server never
 * saw those users). Causes, each named when it applies: the run ended
 * early (interrupted, or stopped by abortOnFail: the count is taken against
 * the last stage's users, so users not yet due are in it), an agent
 * was lost or failed before reporting its starts, spear's verdict found
 * agents saturated. When none applies, the ramp still fell behind inside
 * spear (see heldBack), and the line says so. Pure.
 */
export function neverStartedLine(result: RunResult, neverStarted: number, users: number): string {
  const causes: string[] = [];
  if (result.interrupted) causes.push('the run was interrupted: users its ramp had not come to yet count here too');
  if (result.aborted !== undefined) causes.push('spear stopped the run early (abortOnFail): users its ramp had not come to yet count here too');
  const gone = result.agents.filter((agent) => agent.status !== 'ok');
  if (gone.length > 0) causes.push(`${gone.map((agent) => `agent ${agent.id} ${agent.status}`).join(', ')}: users started after its last report count here`);
  const verdict = verdictOf(result);
  if (verdict?.saturated === true) causes.push(`spear's ramp fell behind on saturated agent${verdict.agents.length === 1 ? '' : 's'} ${verdict.agents.join(', ')} (see the warning above)`);
  if (causes.length === 0) causes.push(verdict === undefined ? 'spear\'s ramp fell behind, or a lost agent never reported them' : heldBack(result));
  const guarded = result.scenario.thresholds.some((threshold) => threshold.metric === 'neverStarted');
  const hint = guarded ? '' : '; the threshold "neverStarted < 1" fails such a run';
  return `Never started: ${neverStarted} of ${users} users (${causes.join('; ')}): the server saw fewer users than asked, and they are not counted as failures${hint}`;
}

/**
 * The ramp fell behind with no agent saturated (by the run rule) or lost:
 * still spear's doing. What the result shows of why: agents saturated in
 * fewer intervals than the run rule needs, or else, with every load loop
 * calm, users waiting for a free handshake slot while connects were slow.
 */
function heldBack(result: RunResult): string {
  const busy = result.agents.flatMap((agent) => {
    const health = healthOf(agent);
    return health === undefined || health.saturatedIntervals === 0 ? [] : [`agent ${agent.id} in ${health.saturatedIntervals} of ${health.intervals} intervals`];
  });
  let why: string;
  if (busy.length > 0) {
    why = `its load loop was saturated while users were due (${busy.join(', ')}: under the run rule, so the verdict says ok)`;
  } else {
    const facts: string[] = [];
    const connect = result.summary.connectMs;
    if (connect !== undefined && connect.count > 0) facts.push(`connect p99 ${formatMs(connect.p99)}`);
    // A loop, not Math.max(...rows): hours of intervals times agents would overflow the argument list.
    let inFlight = 0;
    for (const entry of result.timeline) for (const health of (entry as Partial<TimelineEntry>).health ?? []) inFlight = Math.max(inFlight, health.connecting);
    if (inFlight > 0) facts.push(`up to ${inFlight} handshakes in flight at one agent`);
    why = `with every load loop calm, an agent starts a user only when one of its handshake slots is free, and slow connects keep them taken${facts.length === 0 ? '' : ` (${facts.join(', ')})`}`;
  }
  return `held back by spear, not the server: no agent was saturated or lost by the verdict's rule, yet spear's ramp fell behind: ${why}; use more agents or a slower ramp`;
}

function round(value: number): number {
  return Math.round(value * 100) / 100;
}
