import { RunMerger } from '../../src/metrics/merger.js';
import { Recorder } from '../../src/metrics/recorder.js';
import { buildResult, type AgentOutcome, type RunResult } from '../../src/report/result.js';
import { scenarioFromFlags } from '../../src/scenarios/load.js';
import type { AgentHealth } from '../../src/wire/messages.js';

/**
 * A result built by the real coordinator code (RunMerger, buildResult) from
 * synthetic interval reports: `agents` agents, `intervals` 1 s intervals,
 * `requests` deterministic latencies per agent and interval. By default
 * agent 1 is saturated (load-loop delay p99 120 ms, loop busy 97%) in
 * intervals 2 and 3 and in the last fifth of the run (enough for the run
 * rule) and every other agent is calm; `busy` says otherwise. No randomness.
 */
export function syntheticResult(agents: number, intervals: number, requests = 20, busy = agentOneBusy(intervals)): RunResult {
  const ids = Array.from({ length: agents }, (_, id) => id);
  const merger = new RunMerger(ids);
  const recorders = ids.map(() => new Recorder());
  const startMs = 1_800_000_000_000;
  for (let index = 0; index < intervals; index += 1) {
    for (const agentId of ids) {
      const recorder = recorders[agentId]!;
      for (let count = 0; count < requests; count += 1) {
        const us = 500 + ((agentId * 7919 + index * 104_729 + count * 15_485_863) % 40_000);
        recorder.response(count % 50 === 0 ? 503 : 200, 180, us, us);
      }
      if (index % 5 === agentId % 5) recorder.failureKey('connect:ECONNREFUSED', new Error('connect ECONNREFUSED 127.0.0.1:1'));
      const { counters, histograms } = recorder.takeInterval(10, 1);
      merger.add({ type: 'interval', agentId, index, startMs: startMs + index * 1000, endMs: startMs + (index + 1) * 1000, counters, histograms, health: healthOf(agentId, index, busy(agentId, index)) });
    }
  }
  const outcomes: AgentOutcome[] = ids.map((id) => ({
    id, pid: 4000 + id, host: `host-${id % 4}`, address: `10.0.0.${id}:7070`, status: 'ok', reason: undefined, connections: 10, clock: { offsetUs: 15 * id, uncertaintyUs: 40 }, lateMsMax: 0,
  }));
  const scenario = scenarioFromFlags({ target: 'http://127.0.0.1:8080', connections: String(agents * 10), duration: `${intervals}s` });
  return buildResult(scenario, merger, outcomes, false);
}

function agentOneBusy(intervals: number): (agent: number, index: number) => boolean {
  return (agent, index) => agent === 1 && (index === 2 || index === 3 || index >= Math.floor(intervals * 0.8));
}

function healthOf(agent: number, index: number, saturated: boolean): AgentHealth {
  const p99 = saturated ? 120 : 2 + ((agent + index) % 7) / 4;
  return {
    loopDelayMs: { p50: p99 / 4, p99, max: p99 * 2 }, elu: saturated ? 0.97 : 0.3 + (agent % 3) / 10, cpu: 0.2 + (index % 4) / 10,
    rssMb: 90 + (agent % 11), heapMb: 20 + (index % 5), connecting: 0, connectsStarted: index === 0 ? 10 : 0, connectsBehind: 0,
  };
}
