import { intervalSaturation, saturationFix, saturationThresholds, type AgentHealthSummary, type GeneratorVerdict } from '../metrics/generator-verdict.js';
import type { LatencySummaryMs } from '../metrics/histogram.js';
import type { AgentEntry, RunResult, Summary, TimelineEntry } from './result.js';

/**
 * spear's verdict on itself as words, for every renderer (text, HTML,
 * compare): the warning when an agent was the bottleneck, one line when
 * none was. Pure. Results written before spear judged itself lack the
 * fields; every reader here takes that as "not judged", never as "ok".
 */

/** The run's verdict, or undefined for a result written before spear judged itself. */
export function verdictOf(result: RunResult): GeneratorVerdict | undefined {
  return (result.summary as Partial<Summary>).generator;
}

/** An agent's run-wide health, or undefined for a result written before spear measured it. */
export function healthOf(agent: AgentEntry): AgentHealthSummary | undefined {
  return (agent as Partial<AgentEntry>).health;
}

/** Time waited inside spear, or undefined when nothing queued (or the result predates it). */
export function queueOf(result: RunResult): LatencySummaryMs | undefined {
  const queue = (result.summary as Partial<Summary>).queueMs;
  return queue === undefined || queue.count === 0 ? undefined : queue;
}

/** Load-loop delay for people: "3.1 ms", "120 ms", "4.2 s". */
export function formatDelay(ms: number): string {
  if (ms >= 1000) return `${(ms / 1000).toFixed(1)} s`;
  return ms < 10 ? `${ms.toFixed(1)} ms` : `${ms.toFixed(0)} ms`;
}

/** CPU share as a percentage of one core: 0.41 → "41%". */
export function formatCpu(cpu: number): string {
  return `${(cpu * 100).toFixed(0)}%`;
}

/** The fix, in one sentence: generator-verdict.ts says it. */
export { saturationFix };

/** What the per-interval rule is, for people. */
export const saturationRule = `load-loop delay p99 > ${saturationThresholds.loopDelayP99Ms} ms, a stall ≥ ${saturationThresholds.loopStallMs / 1000} s, load loop busy ≥ ${saturationThresholds.elu * 100}% or CPU ≥ ${saturationThresholds.cpu * 100}% of a core`;

/** What makes a run saturated, for people. */
export const saturationRunRule = `an agent was saturated in at least ${saturationThresholds.runShare * 100}% (and ${saturationThresholds.runIntervals}) of its intervals, or its interval reports ran ${saturationThresholds.lateMs / 1000} s or more late`;

/**
 * "agent 1: 7 of 10 intervals saturated (first: load-loop delay p99 120 ms >
 * 50 ms, in interval 0); load-loop delay p99 up to 120 ms, CPU mean 80% max
 * 90%, RSS up to 120 MB; interval reports up to 4.2 s late (…)". `first`
 * names the first saturated interval's cause when the timeline has it.
 */
export function agentHealthLine(id: number, health: AgentHealthSummary, first?: string): string {
  const parts: string[] = [];
  if (health.saturatedIntervals > 0) parts.push(`${health.saturatedIntervals} of ${health.intervals} intervals saturated (${first ?? saturationRule})`);
  parts.push(`load-loop delay p99 up to ${formatDelay(health.loopDelayMs.p99Max)}, CPU mean ${formatCpu(health.cpu.mean)} max ${formatCpu(health.cpu.max)}, RSS up to ${health.rssMbMax.toFixed(0)} MB`);
  if (health.lateMsMax > 0) parts.push(`interval reports up to ${formatDelay(health.lateMsMax)} late (heartbeats arrived: busy, not lost)`);
  return `agent ${id}: ${parts.join('; ')}`;
}

/**
 * The warning block of a saturated run, first line "WARNING: spear was the
 * bottleneck …"; empty when the generator was fine or not judged.
 */
export function generatorWarning(result: RunResult): string[] {
  const verdict = verdictOf(result);
  if (verdict === undefined || !verdict.saturated) return [];
  const lines = [`WARNING: spear was the bottleneck, not (only) the server: agent${verdict.agents.length === 1 ? '' : 's'} ${verdict.agents.join(', ')} (of ${result.agents.length}) could not keep up.`];
  let described = 0;
  for (const id of verdict.agents) {
    const agent = result.agents.find((entry) => entry.id === id);
    const health = agent === undefined ? undefined : healthOf(agent);
    if (health === undefined) continue;
    lines.push(`  ${agentHealthLine(id, health, firstSaturation(result.timeline, id))}`);
    described += 1;
  }
  if (described === 0) lines.push(`  ${verdict.reason}`);
  const spans = intervalSpans(verdict.intervals);
  lines.push(`  Latency, throughput and errors${spans === '' ? '' : ` in intervals ${spans}`} include spear's own queueing, not only the server's.`);
  lines.push(`  Fix: ${verdict.fix ?? saturationFix}.`);
  return lines;
}

/**
 * One line when the generator was not the bottleneck ("Generator: ok, max
 * load-loop delay p99 3.1 ms, CPU max 41%"), or was never judged; undefined
 * when it was saturated (the warning says it instead).
 */
export function generatorOkLine(result: RunResult): string | undefined {
  const verdict = verdictOf(result);
  if (verdict === undefined) return 'Generator: not judged (this result predates spear measuring its own health)';
  if (verdict.saturated) return undefined;
  const healths = result.agents.map(healthOf).filter((health): health is AgentHealthSummary => health !== undefined);
  const p99 = Math.max(0, ...healths.map((health) => health.loopDelayMs.p99Max));
  const cpu = Math.max(0, ...healths.map((health) => health.cpu.max));
  const saturated = healths.reduce((sum, health) => sum + health.saturatedIntervals, 0);
  const blips = saturated === 0 ? '' : `; ${saturated} saturated interval${saturated === 1 ? '' : 's'}, under the run rule`;
  return `Generator: ok, max load-loop delay p99 ${formatDelay(p99)}, CPU max ${formatCpu(cpu)}${blips}`;
}

/** "first: load-loop delay p99 120 ms > 50 ms, in interval 0" for one agent, from the timeline; undefined when it has no saturated interval there. */
function firstSaturation(timeline: readonly TimelineEntry[], agent: number): string | undefined {
  for (const entry of timeline) {
    for (const health of (entry as Partial<TimelineEntry>).health ?? []) {
      if (health.agent !== agent) continue;
      const why = intervalSaturation(health);
      if (why !== undefined) return `first: ${why}, in interval ${health.index}`;
    }
  }
  return undefined;
}

/** "2–9, 12, 15–20" from ascending interval indexes; long lists end in "…". */
export function intervalSpans(indexes: readonly number[], most = 6): string {
  const spans: string[] = [];
  let start: number | undefined;
  let previous = Number.NaN;
  const close = (): void => {
    if (start !== undefined) spans.push(start === previous ? String(start) : `${start}–${previous}`);
  };
  for (const index of indexes) {
    if (index !== previous + 1) {
      close();
      start = index;
    }
    previous = index;
  }
  close();
  return spans.length > most ? `${spans.slice(0, most).join(', ')}, …` : spans.join(', ');
}

/**
 * Lines for a comparison when either run was saturated: its numbers measure
 * spear as much as the server. Empty when neither was.
 */
export function comparisonWarnings(baselineName: string, baseline: RunResult, currentName: string, current: RunResult): string[] {
  const lines: string[] = [];
  for (const [role, name, result] of [['baseline', baselineName, baseline], ['current run', currentName, current]] as const) {
    const verdict = verdictOf(result);
    if (verdict?.saturated === true) lines.push(`WARNING: the ${role} ${name} was saturated (spear was the bottleneck on agent${verdict.agents.length === 1 ? '' : 's'} ${verdict.agents.join(', ')}): this comparison is suspect; rerun it with spear unsaturated (${verdict.fix ?? saturationFix}).`);
    else if (verdict === undefined) lines.push(`note: the ${role} ${name} predates spear's self-health: whether spear was its bottleneck is unknown.`);
  }
  return lines;
}
