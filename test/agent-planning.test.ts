import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { plannedAgentCount } from '../src/coordinator/agent-count.js';
import { readResult } from '../src/report/result-file.js';
import { validateScenario } from '../src/scenarios/validate.js';
import { Checker } from '../src/scenarios/checker.js';
import type { Scenario } from '../src/scenarios/scenario.js';
import { startWsServer, type WsTestServer } from './servers/ws-server.js';
import { writeScenario } from './support/case-b.js';
import { runSpear, tempDir } from './support/spear.js';

// Issue 13 item 1: with no agent count given, a run gets enough local agents for the connections
// it holds (each process holds at most its open-file limit), never fewer than one per core.

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

function scenario(document: unknown): Scenario {
  return validateScenario(document, new Checker(() => undefined));
}

test('agents are planned from the open-file limit: max(cores, ceil(held / budget))', () => {
  const users = scenario({ protocol: 'ws', target: 'ws://127.0.0.1:1', load: { users: 100_000 }, flow: [{ connect: {} }] });
  assert.deepEqual(plannedAgentCount(users, 2, 20_000), { count: 6, reason: '6 agents: 100,000 users / 19,936 per agent (open-file limit 20,000)' });
  assert.equal(plannedAgentCount(users, 8, 20_000).count, 8);
  assert.equal(plannedAgentCount(users, 2, null).count, 2, 'an unknown limit keeps one per core');
  const http = scenario({ target: 'http://127.0.0.1:1', load: { connections: 50_000 } });
  assert.equal(plannedAgentCount(http, 2, 20_000).count, 3);
  assert.equal(plannedAgentCount(scenario({ target: 'http://127.0.0.1:1' }), 2, 20_000).reason, '2 agents: one per core');
});

test('a long-connection run with more users than one agent holds, and no --agents, plans enough agents and completes', async () => {
  const file = await writeScenario(dir.path, 'many.yaml', `protocol: ws
target: ${server.url}/echo
load: { users: 90, connectRate: 1000/s, hold: 1s }
flow:
  - connect: {}
`);
  const env = { SPEAR_TEST_AGENT_BUDGET: '20' };
  const plan = await runSpear(['validate', file], { env });
  assert.equal(plan.code, 0, plan.stderr);
  assert.match(plan.stdout, /5 local agent processes, .*\(5 agents: 90 users \/ 20 per agent \(test budget\)\)/);
  const out = join(dir.path, 'many.json');
  const run = await runSpear(['run', file, '--quiet', '--out', out], { env });
  assert.equal(run.code, 0, run.stderr);
  const result = await readResult(out);
  assert.equal(result.agents.length, 5);
  assert.equal(result.summary.connections?.opened, 90);
  assert.equal(result.summary.connections?.peak, 90);
  assert.equal(result.summary.errors.total, 0);
});
