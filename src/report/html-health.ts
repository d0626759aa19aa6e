import type { ComparedMetric } from './compare.js';
import type { ChartSpec } from './html-charts.js';
import { chartBlock, escapeHtml, table } from './html-table.js';
import type { RunResult } from './result.js';
import { formatCpu, formatDelay, generatorOkLine, generatorWarning, healthOf, saturationFix, saturationRule, saturationRunRule } from './self-health.js';

/**
 * The HTML report's account of spear itself: the verdict banner at the top,
 * the self-health section (charts and per-agent table). Pure.
 */

/** A warning banner when spear was the bottleneck, a quiet line when it was not. */
export function verdictBanner(result: RunResult): string {
  const warning = generatorWarning(result);
  if (warning.length > 0) {
    const [head = '', ...details] = warning;
    return `<div class="verdict warn"><strong>${escapeHtml(head)}</strong><ul>${details.map((line) => `<li>${escapeHtml(line.trim())}</li>`).join('')}</ul></div>`;
  }
  return `<div class="verdict ok">${escapeHtml(generatorOkLine(result) ?? '')}</div>`;
}

/** The agent table: counts, clock, and each agent's own health over the run. */
export function agentTable(result: RunResult): string {
  const rows = result.agents.map((agent) => {
    const health = healthOf(agent);
    const own = health === undefined
      ? ['–', '–', '–', '–', '–']
      : [
        `${health.saturatedIntervals} / ${health.intervals}`, formatDelay(health.loopDelayMs.p99Max),
        `${formatCpu(health.cpu.mean)} / ${formatCpu(health.cpu.max)}`, `${health.rssMbMax.toFixed(0)} MB`, health.lateMsMax > 0 ? formatDelay(health.lateMsMax) : '0',
      ];
    return [
      String(agent.id), agent.status, String(agent.connections), String(agent.requests), String(agent.errors), ...own,
      agent.clock === undefined ? '–' : `${agent.clock.offsetMs.toFixed(3)} ms ± ${agent.clock.uncertaintyMs.toFixed(3)}`, agent.reason ?? '',
    ];
  });
  return table(['agent', 'status', 'connections', 'requests', 'errors', 'saturated intervals', 'loop delay p99 max', 'CPU mean / max', 'RSS max', 'late max', 'clock offset', 'reason'], rows, 'agents');
}

/** The self-health section: what saturation means, the charts (placeholders uPlot fills) and the agent table. */
export function selfHealthSection(result: RunResult, charts: readonly ChartSpec[]): string {
  const rule = `An agent's interval is saturated when its ${saturationRule}; the run is, when ${saturationRunRule}. Then ${saturationFix}.`;
  return `<h2>spear self-health</h2>
<p>${escapeHtml(rule)}</p>
${charts.map(chartBlock).join('\n')}
<h2>Agents</h2>
${agentTable(result)}`;
}

/** A warning above a comparison when either run was saturated (the `saturated` metric of compareResults). */
export function comparisonWarning(metrics: readonly ComparedMetric[]): string {
  const saturated = metrics.find((metric) => metric.name === 'saturated');
  if (saturated === undefined || (saturated.baseline === 0 && saturated.current === 0)) return '';
  const which = [saturated.baseline > 0 ? 'the baseline' : '', saturated.current > 0 ? 'this run' : ''].filter((part) => part !== '').join(' and ');
  return `<div class="verdict warn">${escapeHtml(`spear was the bottleneck in ${which}: this comparison is suspect (${saturationFix}).`)}</div>`;
}
