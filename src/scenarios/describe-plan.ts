import { ArrivalSchedule } from './arrival-schedule.js';
import { planAgents } from './plan.js';
import type { Scenario } from './scenario.js';
import { formatDurationMs } from './units.js';

/** What `spear validate` prints: the scenario as understood, and each agent's slice. Pure. */
export function describePlan(scenario: Scenario, agentCount: number, file: string): string {
  const plans = planAgents(scenario, agentCount);
  const load = scenario.load;
  const lines = [`${file}: ok${scenario.name === undefined ? '' : ` (${scenario.name})`}`];
  lines.push(`  target      ${scenario.target}`);
  lines.push(`  requests    ${scenario.requests.map((request) => `${request.method} ${request.path}`).join(', ')}`);
  if (load.model === 'closed') {
    lines.push(`  load        closed model: ${load.connections} connections${load.pipelining > 1 ? `, pipelining ${load.pipelining}` : ''} for ${formatDurationMs(load.durationMs)}`);
  } else {
    const first = load.stages[0];
    const constant = load.stages.length === 1 && first !== undefined && first.ratePerS === load.startRatePerS;
    const shape = constant
      ? `${round(load.startRatePerS)}/s for ${formatDurationMs(load.durationMs)}`
      : `from ${round(load.startRatePerS)}/s, ${load.stages.map((stage) => `to ${round(stage.ratePerS)}/s over ${formatDurationMs(stage.durationMs)}`).join(', then ')}`;
    lines.push(`  load        open model: ${shape}; ${new ArrivalSchedule(load).total} arrivals on up to ${load.connections} connections, dropped after waiting ${formatDurationMs(load.maxDelayMs)}`);
  }
  lines.push(`  timeouts    connect ${formatDurationMs(scenario.timeouts.connectMs)}, request ${formatDurationMs(scenario.timeouts.requestMs)}`);
  if (scenario.thresholds.length > 0) lines.push(`  thresholds  ${scenario.thresholds.map((threshold) => threshold.source).join('; ')}`);
  lines.push(`  agents      ${plans.length} local agent process${plans.length === 1 ? '' : 'es'}, reporting every ${formatDurationMs(scenario.intervalMs)}`);
  for (const plan of plans) {
    const rate = plan.load.model === 'open' ? `, ${round(plan.load.stages[plan.load.stages.length - 1]?.ratePerS ?? 0)}/s at the end` : '';
    lines.push(`    agent ${plan.agentId}: ${plan.load.connections} connection${plan.load.connections === 1 ? '' : 's'}${rate}`);
  }
  return `${lines.join('\n')}\n`;
}

function round(value: number): number {
  return Math.round(value * 100) / 100;
}
