import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ArrivalSchedule } from '../src/scenarios/arrival-schedule.js';
import { parseThreshold } from '../src/scenarios/threshold.js';
import { formatDurationMs, parseDurationMs, parseRatePerS } from '../src/scenarios/units.js';
import { preflightLocal } from '../src/coordinator/preflight.js';
import { agentFeederRows, connectionsOf, planAgents, usersOfAgent } from '../src/scenarios/plan.js';
import { parseScenario } from '../src/scenarios/load.js';
import { PreflightError } from '../src/errors.js';

test('durations and rates parse the way users type them', () => {
  assert.equal(parseDurationMs('20s'), 20_000);
  assert.equal(parseDurationMs('1m30s'), 90_000);
  assert.equal(parseDurationMs('250ms'), 250);
  assert.equal(parseDurationMs('1.5h'), 5_400_000);
  assert.equal(parseDurationMs('500us'), 0.5);
  assert.equal(parseDurationMs('10'), 10_000);
  assert.equal(parseDurationMs(3), 3000);
  for (const bad of ['', 'soon', '10 s', '5x', 's', '1m30']) assert.equal(parseDurationMs(bad), undefined, bad);
  assert.equal(parseRatePerS('5000/s'), 5000);
  assert.equal(parseRatePerS('300/m'), 5);
  assert.equal(parseRatePerS('7200/h'), 2);
  for (const bad of ['fast', '5000', '/s', '5000/d']) assert.equal(parseRatePerS(bad), undefined, bad);
});

test('durations format back the way users type them, hours included', () => {
  assert.equal(formatDurationMs(250), '250ms');
  assert.equal(formatDurationMs(90_000), '1m30s');
  assert.equal(formatDurationMs(7_200_000), '2h');
  assert.equal(formatDurationMs(8_100_000), '2h15m');
  assert.equal(formatDurationMs(1_800_000_000), '500h');
  for (const ms of [250, 90_000, 8_100_000, 3_601_500]) assert.equal(parseDurationMs(formatDurationMs(ms)), ms);
});

test('thresholds parse into metric, operator and value', () => {
  assert.deepEqual(parseThreshold('p99 < 50ms'), { source: 'p99 < 50ms', metric: 'p99', scope: 'latency', operator: '<', value: 50, percent: false });
  assert.deepEqual(parseThreshold('p99.9<=1s'), { source: 'p99.9<=1s', metric: 'p999', scope: 'latency', operator: '<=', value: 1000, percent: false });
  assert.deepEqual(parseThreshold('errors < 1%'), { source: 'errors < 1%', metric: 'errors', scope: 'latency', operator: '<', value: 1, percent: true });
  assert.deepEqual(parseThreshold('rps >= 1000'), { source: 'rps >= 1000', metric: 'rps', scope: 'latency', operator: '>=', value: 1000, percent: false });
  assert.equal(parseThreshold('rps > 5%'), 'rps cannot be a percentage, got "5%"');
  assert.equal(parseThreshold('p99 = 5ms'), 'expected "<metric> <op> <value>" such as "p99 < 50ms", got "p99 = 5ms"');
});

test('a constant-rate schedule spreads exactly rate × duration arrivals evenly', () => {
  const schedule = new ArrivalSchedule({ startRatePerS: 100, stages: [{ durationMs: 2000, ratePerS: 100 }] });
  assert.equal(schedule.total, 200);
  assert.equal(schedule.timeOfMs(0), 5);
  assert.equal(schedule.timeOfMs(1), 15);
  assert.equal(schedule.timeOfMs(199), 1995);
  assert.equal(schedule.timeOfMs(200), undefined);
  assert.equal(schedule.firstAtOrAfter(1000), 100);
});

test('a ramp sends its arrivals in proportion to the rate integral', () => {
  // 0 → 100/s over 10 s, then 100/s for 10 s: 500 + 1000 arrivals.
  const schedule = new ArrivalSchedule({ startRatePerS: 0, stages: [{ durationMs: 10_000, ratePerS: 100 }, { durationMs: 10_000, ratePerS: 100 }] });
  assert.equal(schedule.total, 1500);
  // Half of the ramp's arrivals (250) come in its last ~2.93 s: N(t) = 5t² → t = √(250/5)·… ; check the inverse directly.
  for (const k of [0, 10, 249, 499, 500, 1000, 1499]) {
    const seconds = schedule.timeOfMs(k)! / 1000;
    const arrivals = seconds <= 10 ? 5 * seconds * seconds : 500 + 100 * (seconds - 10);
    assert.ok(Math.abs(arrivals - (k + 0.5)) < 1e-6, `k=${k}: N(${seconds}) = ${arrivals}`);
  }
  // Times never go backwards.
  let previous = -1;
  for (let k = 0; k < schedule.total; k += 1) {
    const time = schedule.timeOfMs(k)!;
    assert.ok(time > previous);
    previous = time;
  }
});

test('a schedule past 2^31 arrivals still finds its arrivals (no 32-bit wrap in the search)', () => {
  // 1,000,000/s for 10 h: 3.6e10 arrivals, where `(low + high) >>> 1` wrapped and looped for ever.
  const schedule = new ArrivalSchedule({ startRatePerS: 1_000_000, stages: [{ durationMs: 36_000_000, ratePerS: 1_000_000 }] });
  assert.equal(schedule.total, 36_000_000_000);
  assert.equal(schedule.firstAtOrAfter(30_000_000), 30_000_000_000);
  assert.equal(schedule.firstAtOrAfter(36_000_000), schedule.total);
  assert.ok(Math.abs(schedule.timeOfMs(schedule.total - 1)! - (36_000_000 - 0.0005)) < 1e-6);
});

test('the plan splits connections evenly and rates in proportion', () => {
  const scenario = parseScenario('target: http://127.0.0.1:1\nload:\n  connections: 10\n  rate: 900/s\n', 's.yaml');
  const plans = planAgents(scenario, 4);
  assert.deepEqual(plans.map(connectionsOf), [3, 3, 2, 2]);
  const rates = plans.map((plan) => (plan.load.model === 'open' ? plan.load.stages[0]!.ratePerS : 0));
  assert.deepEqual(rates, [270, 270, 180, 180]);
  // Never an agent without a connection.
  assert.equal(planAgents(parseScenario('target: http://127.0.0.1:1\nload:\n  connections: 2\n', 's.yaml'), 8).length, 2);
});

test('preflight refuses more connections per agent than the open-file limit allows, naming the fix', () => {
  const scenario = parseScenario('target: http://127.0.0.1:1\nload:\n  connections: 30000\n', 's.yaml');
  assert.throws(() => preflightLocal(planAgents(scenario, 1), 20_000), (error: unknown) => {
    assert.ok(error instanceof PreflightError);
    assert.equal(error.message, '30000 connections over 1 agent need 30064 open files per agent, but the open-file limit is 20000: use --agents 2 or more (each agent is a process with its own limit), or raise the hard limit (ulimit -Hn)');
    return true;
  });
  assert.doesNotThrow(() => preflightLocal(planAgents(scenario, 2), 20_000));
});

test('each agent gets only the feeder rows its users read, and user i still reads row i mod R', () => {
  for (const [agents, rows, users] of [[2, 7, 100], [4, 10, 1000], [3, 1_000_000, 30], [6, 12, 12], [5, 3, 1]] as const) {
    const file = Array.from({ length: rows }, (_, row) => row);
    let shipped = 0;
    for (let agent = 0; agent < agents; agent += 1) {
      const local = usersOfAgent(users, agent, agents);
      const mine = agentFeederRows(file, agent, agents, local);
      shipped += mine.length;
      assert.ok(mine.length <= Math.max(1, local), `agent ${agent} of ${agents}: ${mine.length} rows for ${local} users`);
      for (let slot = 0; slot < local; slot += 1) {
        const user = agent + slot * agents;
        assert.equal(mine[slot % mine.length], user % rows, `user ${user} (${agents} agents, ${rows} rows)`);
      }
    }
    if (rows > users) assert.ok(shipped <= users + agents, `${shipped} rows shipped for ${users} users`);
  }
});
