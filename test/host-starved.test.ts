import assert from 'node:assert/strict';
import { test } from 'node:test';
import { HealthProbe } from '../src/agents/health-probe.js';
import { hostStarvedFix, judgeGenerator, saturationFix, type AgentIntervalHealth } from '../src/metrics/generator-verdict.js';

// An agent whose loop lagged because the host's other processes took the CPU must not be told
// "use more agents": that makes it worse. The verdict tells the two apart by the host's busy share.

function interval(agent: number, index: number, health: Partial<AgentIntervalHealth>): AgentIntervalHealth {
  return {
    agent, index, startMs: index * 1000, endMs: (index + 1) * 1000,
    loopDelayMs: { p50: 1, p99: 5, max: 10 }, elu: 0.3, cpu: 0.3, rssMb: 80, heapMb: 20,
    connecting: 0, connectsStarted: 0, connectsBehind: 0, ...health,
  };
}

function run(lagging: Partial<AgentIntervalHealth>): ReturnType<typeof judgeGenerator> {
  const intervals = Array.from({ length: 10 }, (_, index) => interval(0, index, index >= 2 && index < 6 ? lagging : {}));
  return judgeGenerator(new Map([[0, intervals]]), new Map());
}

test('a loop that lagged while the agent got little CPU and the host was busy is host-starved, with its own fix', () => {
  const starved = run({ loopDelayMs: { p50: 30, p99: 180, max: 400 }, elu: 0.95, cpu: 0.35, hostCpu: 0.99 });
  assert.equal(starved.saturated, true);
  assert.equal(starved.fix, hostStarvedFix);
  assert.match(starved.reason, /while it used only 35% of a core and the host's CPUs were 99% busy: other processes took the CPU/);
  // The same lag with the agent using a whole core is spear's own load: more agents help.
  const busy = run({ loopDelayMs: { p50: 30, p99: 180, max: 400 }, elu: 0.97, cpu: 0.98, hostCpu: 0.99 });
  assert.equal(busy.fix, saturationFix);
  assert.doesNotMatch(busy.reason, /other processes/);
  // Without the host's share (an older agent), nothing is claimed.
  assert.equal(run({ loopDelayMs: { p50: 30, p99: 180, max: 400 }, elu: 0.95, cpu: 0.35 }).fix, saturationFix);
  assert.equal(run({}).fix, undefined);
});

test('the health probe reports the host\'s busy share between 0 and 1', async () => {
  const probe = new HealthProbe();
  const until = Date.now() + 150;
  while (Date.now() < until) Math.sqrt(Math.random());
  await new Promise((resolve) => setTimeout(resolve, 20));
  const health = probe.take({ connecting: 0, connectsStarted: 0, connectsBehind: 0 }, 0);
  probe.close();
  assert.ok(health.hostCpu !== undefined && health.hostCpu > 0 && health.hostCpu <= 1, `hostCpu ${health.hostCpu}`);
});
