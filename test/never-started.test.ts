/**
 * Users a long-connection ramp wanted but spear never started
 * (summary.connections.neverStarted): the `neverStarted` threshold reads
 * them, and the text summary names whose doing they were — always spear's,
 * never the server's, which never saw them.
 */
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { readResult } from '../src/report/result-file.js';
import type { RunResult } from '../src/report/result.js';
import type { ConnectionSummary } from '../src/report/session-summary.js';
import { renderTextSummary } from '../src/report/text-summary.js';
import { evaluateThresholds } from '../src/report/thresholds.js';
import { parseScenario } from '../src/scenarios/load.js';
import type { Threshold } from '../src/scenarios/scenario.js';
import { parseThreshold } from '../src/scenarios/threshold.js';
import { startWsServer, type WsTestServer } from './servers/ws-server.js';
import { writeScenario } from './support/case-b.js';
import { runSpear, tempDir } from './support/spear.js';
import { syntheticResult } from './support/synthetic-result.js';

function parsed(source: string): Threshold {
  const threshold = parseThreshold(source);
  assert.ok(typeof threshold !== 'string', `${source}: ${String(threshold)}`);
  return threshold;
}

const wsScenario = (thresholds: string): string => `protocol: ws
target: ws://127.0.0.1:9/echo
load: { users: 2000, connectRate: 1000/s, hold: 5s }
flow:
  - connect: {}
thresholds: [${thresholds}]
`;

/**
 * A ws run's result, built by the real coordinator code: calm agents, or
 * agents saturated where `busy` says, with the given connections.
 */
function sessionResult(connections: Partial<ConnectionSummary>, options: { busy?: (agent: number, index: number) => boolean; thresholds?: string } = {}): RunResult {
  const base = options.busy === undefined ? syntheticResult(2, 10, 20, () => false) : syntheticResult(2, 10, 20, options.busy);
  return {
    ...base,
    scenario: parseScenario(wsScenario(options.thresholds ?? ''), 'ws.yaml'),
    summary: {
      ...base.summary,
      connections: { users: 2000, opened: 1597, failed: 0, disconnects: 0, reconnects: 0, peak: 1597, timeToAllConnectedMs: null, ...connections },
      connectMs: { ...base.summary.latencyMs, p99: 1500 },
    },
  };
}

describe('the neverStarted threshold', () => {
  test('parses as a count or a share of the users asked, written as in the result file', () => {
    assert.deepEqual(parseThreshold('neverStarted < 1'), { source: 'neverStarted < 1', metric: 'neverStarted', scope: 'latency', operator: '<', value: 1, percent: false });
    assert.deepEqual(parseThreshold('neverStarted<=0.5%'), { source: 'neverStarted<=0.5%', metric: 'neverStarted', scope: 'latency', operator: '<=', value: 0.5, percent: true });
    assert.equal(parseThreshold('neverStarted < 1ms'), 'neverStarted needs a number or a percentage, got "1ms"');
    assert.match(String(parseThreshold('neverstarted < 1')), /^unknown metric "neverstarted" \(expected one of: .*, saturated, neverStarted\)$/);
    assert.match(String(parseThreshold('P99 < 5ms')), /^unknown metric "P99"/);
    assert.equal(parseThreshold('connect.neverStarted < 1'), 'connect.neverStarted: only percentiles, min, mean and max apply to connect latency');
    assert.match(String(parseThreshold('requests.login.neverStarted < 1')), /a request's threshold reads its latency/);
  });

  test('reads summary.connections.neverStarted: 403 of 2000 users is a count of 403 and a share of 20.15%', () => {
    const summary = sessionResult({ neverStarted: 403 }).summary;
    const results = evaluateThresholds(['neverStarted < 1', 'neverStarted <= 403', 'neverStarted < 20%', 'neverStarted < 20.2%'].map(parsed), summary);
    assert.deepEqual(results.map(({ threshold, ok, unit }) => [threshold, ok, unit]), [
      ['neverStarted < 1', false, 'count'],
      ['neverStarted <= 403', true, 'count'],
      ['neverStarted < 20%', false, '%'],
      ['neverStarted < 20.2%', true, '%'],
    ]);
    assert.equal(results[0]?.actual, 403);
    assert.ok(Math.abs((results[2]?.actual ?? 0) - 20.15) < 1e-9, String(results[2]?.actual));
  });

  test('reads 0 when every user started, and in an HTTP run (no connections), as lost and disconnects do', () => {
    const thresholds = ['neverStarted < 1', 'neverStarted < 0.5%'].map(parsed);
    const all = evaluateThresholds(thresholds, sessionResult({}).summary);
    assert.deepEqual(all.map(({ ok, actual }) => [ok, actual]), [[true, 0], [true, 0]]);
    const http = evaluateThresholds([...thresholds, parsed('lost < 1')], syntheticResult(1, 3, 5, () => false).summary);
    assert.deepEqual(http.map(({ ok, actual }) => [ok, actual]), [[true, 0], [true, 0], [true, 0]]);
  });
});

describe('the text summary says whose doing never-started users were', () => {
  test('generator ok and no agent lost: held back by spear, not the server, and the ok line says so too', () => {
    const result = sessionResult({ neverStarted: 403 });
    assert.equal(result.summary.generator.saturated, false);
    const text = renderTextSummary({
      ...result,
      timeline: result.timeline.map((entry, index) => (index === 4 ? { ...entry, health: entry.health.map((row) => ({ ...row, connecting: 2000 })) } : entry)),
    });
    assert.match(text, /^ {2}Never started: 403 of 2000 users \(held back by spear, not the server: no agent was saturated or lost by the verdict's rule, yet spear's ramp fell behind: with every load loop calm, an agent starts a user only when one of its handshake slots is free, and slow connects keep them taken \(connect p99 1\.50s, up to 2000 handshakes in flight at one agent\); use more agents or a slower ramp\): the server saw fewer users than asked, and they are not counted as failures; the threshold "neverStarted < 1" fails such a run$/m);
    assert.match(text, /^ {2}Generator: ok, .*; yet its ramp left 403 users unstarted \(see "Never started" above\)$/m);
  });

  test('an agent saturated in fewer intervals than the run rule needs: still spear\'s, and named', () => {
    const result = sessionResult({ neverStarted: 95 }, { busy: (agent, index) => agent === 0 && index === 2 });
    assert.equal(result.summary.generator.saturated, false, 'one saturated interval is under the run rule');
    const text = renderTextSummary(result);
    assert.match(text, /^ {2}Never started: 95 of 2000 users \(held back by spear, not the server: no agent was saturated or lost by the verdict's rule, yet spear's ramp fell behind: its load loop was saturated while users were due \(agent 0 in 1 of 10 intervals: under the run rule, so the verdict says ok\); use more agents or a slower ramp\): /m);
    assert.doesNotMatch(text, /handshake slots/);
  });

  test('a saturated agent is named, with the warning above; a scenario that guards it gets no hint', () => {
    const text = renderTextSummary(sessionResult({ neverStarted: 12 }, { busy: (agent, index) => agent === 1 && index >= 2, thresholds: 'neverStarted < 1' }));
    assert.match(text, /^WARNING: spear was the bottleneck/m);
    assert.match(text, /^ {2}Never started: 12 of 2000 users \(spear's ramp fell behind on saturated agent 1 \(see the warning above\)\): the server saw fewer users than asked, and they are not counted as failures$/m);
    assert.doesNotMatch(text, /Generator: ok/);
  });

  test('a lost agent and an interrupted run are named; a run whose users all started has no line', () => {
    const result = sessionResult({ neverStarted: 1000 });
    const lost = renderTextSummary({ ...result, interrupted: true, partial: true, agents: result.agents.map((agent) => (agent.id === 1 ? { ...agent, status: 'lost' as const } : agent)) });
    assert.match(lost, /^ {2}Never started: 1000 of 2000 users \(the run was interrupted: users its ramp had not come to yet count here too; agent 1 lost: users started after its last report count here\): /m);
    assert.doesNotMatch(lost, /held back by spear/);
    assert.doesNotMatch(renderTextSummary(sessionResult({})), /Never started|unstarted/);
  });
});

describe('end to end', () => {
  let server: WsTestServer;
  let dir: { path: string; cleanup: () => Promise<void> };

  before(async () => {
    server = await startWsServer();
    dir = await tempDir();
  });

  after(async () => {
    await server.close();
    await dir.cleanup();
  });

  test('a run whose ramp a stuck agent left behind fails "neverStarted < 1" with exit code 99', async () => {
    const scenario = await writeScenario(dir.path, 'behind.yaml', `protocol: ws
target: ${server.url}/echo
load: { users: 200, connectRate: 400/s, hold: 500ms }
flow:
  - connect: {}
thresholds: [neverStarted < 1, neverStarted < 100%]
`);
    const out = join(dir.path, 'behind.json');
    // The agent's load loop spins from 100 ms in until after the run's end (1 s): the ramp cannot start the rest.
    const run = await runSpear(['run', scenario, '--agents', '1', '--progress', 'quiet', '--out', out], { env: { SPEAR_TEST_BUSY: '0:100:1500' } });
    assert.equal(run.code, 99, run.stderr);
    const result = await readResult(out);
    const neverStarted = result.summary.connections?.neverStarted ?? 0;
    assert.ok(neverStarted > 0 && neverStarted < 200, `neverStarted ${neverStarted}`);
    assert.deepEqual(result.thresholds.map(({ threshold, ok, actual }) => [threshold, ok, actual]), [
      ['neverStarted < 1', false, neverStarted],
      ['neverStarted < 100%', true, (neverStarted / 200) * 100],
    ]);
    assert.match(run.stdout, new RegExp(`^ {4}FAIL neverStarted < 1 \\(actual ${neverStarted}\\)$`, 'm'));
    // Whether one stuck second makes the run saturated by the verdict's rule depends on where the intervals fall: either way the line blames spear.
    assert.match(run.stdout, new RegExp(`^ {2}Never started: ${neverStarted} of 200 users \\((spear's ramp fell behind on saturated agent 0 |held back by spear, not the server: .*its load loop was saturated while users were due \\(agent 0 in )`, 'm'));
  });
});
