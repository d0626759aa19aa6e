import { ArrivalSchedule } from './arrival-schedule.js';
import { connectionsOf, planAgents } from './plan.js';
import type { HttpRequestSpec, OpenLoad, Scenario, SessionScenario, TargetTls } from './scenario.js';
import { formatDurationMs } from './units.js';

/** What `spear validate` prints: the scenario as understood, each agent's slice, and why that many local agents (`countReason`). Pure. */
export function describePlan(scenario: Scenario, agentCount: number, file: string, countReason?: string): string {
  const plans = planAgents(scenario, agentCount, scenario.remoteAgents.map((spec) => Number(/\*(.+)$/.exec(spec)?.[1] ?? 1)));
  const load = scenario.load;
  const lines = [`${file}: ok${scenario.name === undefined ? '' : ` (${scenario.name})`}`];
  lines.push(`  target      ${scenario.target}`);
  if (scenario.protocol !== 'http') {
    lines.push(...describeSessions(scenario));
  } else if (load.model === 'closed') {
    lines.push(`  requests    ${scenario.requests.map(describeRequest).join(', ')}`);
    lines.push(`  load        closed model: ${load.connections} connections${load.pipelining > 1 ? `, pipelining ${load.pipelining}` : ''} for ${formatDurationMs(load.durationMs)}`);
  } else if (load.model === 'open') {
    lines.push(`  requests    ${scenario.requests.map(describeRequest).join(', ')}`);
    lines.push(`  load        open model: ${rateShape(load, load.durationMs)}; ${new ArrivalSchedule(load).total} arrivals on up to ${load.connections} connections, dropped after waiting ${formatDurationMs(load.maxDelayMs)}`);
  }
  lines.push(`  timeouts    connect ${formatDurationMs(scenario.timeouts.connectMs)}, request ${formatDurationMs(scenario.timeouts.requestMs)}`);
  if (scenario.tls !== undefined) lines.push(`  tls         ${describeTls(scenario.tls)}`);
  lines.push(`  abort       ${scenario.abortOnFailMs === 0 ? 'never early (abortOnFail: false)' : `early if nothing succeeded and attempts failed for ${formatDurationMs(scenario.abortOnFailMs)} (abortOnFail)`}`);
  if (scenario.thresholds.length > 0) lines.push(`  thresholds  ${scenario.thresholds.map((threshold) => threshold.source).join('; ')}`);
  const where = scenario.remoteAgents.length > 0 ? `remote agent${plans.length === 1 ? '' : 's'} (${scenario.remoteAgents.join(', ')})` : `local agent process${plans.length === 1 ? '' : 'es'}`;
  lines.push(`  agents      ${plans.length} ${where}, reporting every ${formatDurationMs(scenario.intervalMs)}${countReason === undefined ? '' : ` (${countReason})`}`);
  for (const plan of plans) {
    const rate = plan.load.model === 'open' ? `, ${round(plan.load.stages[plan.load.stages.length - 1]?.ratePerS ?? 0)}/s at the end` : '';
    const held = connectionsOf(plan);
    const noun = plan.protocol === 'http' ? 'connection' : 'user';
    lines.push(`    agent ${plan.agentId}: ${held} ${noun}${held === 1 ? '' : 's'}${rate}`);
  }
  return `${lines.join('\n')}\n`;
}

/** A rate schedule in words: "200/s for 30s", or "from 0/s, to 100/s over 10s, then …". */
function rateShape(arrivals: Pick<OpenLoad, 'startRatePerS' | 'stages'>, durationMs: number): string {
  const first = arrivals.stages[0];
  const constant = arrivals.stages.length === 1 && first !== undefined && first.ratePerS === arrivals.startRatePerS;
  return constant
    ? `${round(arrivals.startRatePerS)}/s for ${formatDurationMs(durationMs)}`
    : `from ${round(arrivals.startRatePerS)}/s, ${arrivals.stages.map((stage) => `to ${round(stage.ratePerS)}/s over ${formatDurationMs(stage.durationMs)}`).join(', then ')}`;
}

function describeSessions(scenario: SessionScenario): string[] {
  const load = scenario.load;
  const ramp = load.stages.map((stage) => `to ${stage.users} over ${formatDurationMs(stage.durationMs)}`).join(', then ');
  const arrivals = load.arrivals;
  const lines = [arrivals === undefined
    ? `  load        ${load.users} ${scenario.protocol === 'http-flow' ? 'journey' : scenario.protocol} users: ${ramp}, then held ${formatDurationMs(load.holdMs)}`
    : `  load        open model: iterations at ${rateShape(arrivals, load.durationMs)}; ${new ArrivalSchedule(arrivals).total} in all on up to ${load.users} users, dropped after waiting ${formatDurationMs(arrivals.maxDelayMs)}`];
  lines.push(`  flow        ${scenario.flow.map((step) => step.kind).join(' → ')}`);
  // A journey has neither groups nor reconnects.
  if (scenario.protocol === 'http-flow') return lines;
  lines.push(`  groups      ${scenario.groups.size} users per group (${Math.ceil(load.users / scenario.groups.size)} group${Math.ceil(load.users / scenario.groups.size) === 1 ? '' : 's'})`);
  const policy = scenario.reconnect;
  lines.push(`  reconnect   ${policy === undefined ? 'off' : `up to ${policy.attempts} attempts, backoff ${formatDurationMs(policy.initialDelayMs)} doubling to ${formatDurationMs(policy.maxDelayMs)}, jittered`}`);
  return lines;
}

function describeTls(tls: TargetTls): string {
  const parts = [tls.insecure ? 'certificates not verified (insecure)' : `verified against ${tls.ca === undefined ? 'the system\'s CAs' : tls.ca.file}`];
  if (tls.servername !== undefined) parts.push(`servername ${tls.servername}`);
  if (tls.cert !== undefined && tls.key !== undefined) parts.push(`client certificate ${tls.cert.file} (key ${tls.key.file})`);
  return parts.join('; ');
}

function round(value: number): number {
  return Math.round(value * 100) / 100;
}

/** "METHOD path", or "name (METHOD path)" when the request has a name of its own. */
function describeRequest(request: HttpRequestSpec): string {
  const plain = `${request.method} ${request.path}`;
  return request.name === plain ? plain : `${request.name} (${plain})`;
}
