import assert from 'node:assert/strict';
import { test } from 'node:test';
import { preflightPorts } from '../src/coordinator/preflight.js';
import { PreflightError, UsageError, WireError } from '../src/errors.js';
import { Checker } from '../src/scenarios/checker.js';
import { agentFeederRows, connectionsOf, planAgents, type SessionPlan } from '../src/scenarios/plan.js';
import type { Scenario, SessionScenario } from '../src/scenarios/scenario.js';
import { splitSourceAddresses } from '../src/scenarios/source-addresses.js';
import { UserAssignment, userWeightUnits } from '../src/scenarios/user-assignment.js';
import { validateScenario } from '../src/scenarios/validate.js';
import { localTarget } from '../src/sessions/user-ramp.js';
import { wireVersion } from '../src/wire/messages.js';
import { parseCoordinatorMessage } from '../src/wire/parse.js';

// Issue 13 items 3 and 6: user weights for long-connection runs, source addresses split per agent,
// and the ephemeral-port preflight per port range.

function sessions(document: Record<string, unknown>): SessionScenario {
  const scenario: Scenario = validateScenario({ protocol: 'ws', target: 'ws://127.0.0.1:9000', flow: [{ connect: {} }], ...document }, new Checker(() => undefined));
  assert.ok(scenario.protocol === 'ws');
  return scenario;
}

test('equal weights assign exactly as before: user i on agent i mod N, slot floor(i / N)', () => {
  assert.equal(userWeightUnits([1, 1, 1]), undefined);
  assert.equal(userWeightUnits([2.5, 2.5]), undefined);
  for (const agents of [1, 3, 7]) {
    const assignment = UserAssignment.of(agents);
    for (let index = 0; index < 50; index += 1) {
      assert.equal(assignment.agentOf(index), index % agents);
      assert.equal(assignment.slotOf(index), Math.floor(index / agents));
      assert.equal(assignment.indexOf(index % agents, Math.floor(index / agents)), index);
    }
    for (let agent = 0; agent < agents; agent += 1) {
      for (const users of [0, 1, 5, 49]) assert.equal(assignment.usersOf(agent, users), Math.floor(users / agents) + (agent < users % agents ? 1 : 0));
    }
  }
});

test('weights interleave users smoothly, one of each agent first, and the mapping is a bijection', () => {
  assert.deepEqual(userWeightUnits([3, 1]), [3, 1]);
  assert.deepEqual(userWeightUnits([6, 2]), [3, 1]);
  assert.deepEqual(userWeightUnits([1.5, 1]), [3, 2]);
  assert.throws(() => userWeightUnits([1, 123_456.78]), UsageError);
  const threeToOne = UserAssignment.of(2, [3, 1]);
  assert.deepEqual(Array.from({ length: 8 }, (_, index) => threeToOne.agentOf(index)), [0, 1, 0, 0, 0, 1, 0, 0]);
  for (const units of [[3, 1], [1, 3], [3, 2, 1], [1, 1, 5, 2], [7, 1, 1]]) {
    const assignment = UserAssignment.of(units.length, units);
    const period = units.reduce((sum, unit) => sum + unit, 0);
    const seen = units.map(() => 0);
    for (let index = 0; index < 5 * period; index += 1) {
      const agent = assignment.agentOf(index);
      assert.equal(assignment.slotOf(index), seen[agent], `${units}: user ${index} is its agent's next slot`);
      assert.equal(assignment.indexOf(agent, seen[agent]!), index);
      seen[agent]! += 1;
      for (const [other, unit] of units.entries()) {
        const held = assignment.usersOf(other, index + 1);
        assert.equal(held, seen[other], `${units}: agent ${other} of the first ${index + 1}`);
        // In step with the global ramp: within two users of its weighted share at every point.
        assert.ok(Math.abs(held - ((index + 1) * unit) / period) < 2, `${units}: agent ${other} holds ${held} of ${index + 1}`);
      }
      if (index === units.length - 1) assert.ok(seen.every((count) => count === 1), `${units}: one user of every agent first`);
    }
    assert.deepEqual(seen, units.map((unit) => 5 * unit));
  }
  assert.equal(localTarget(8, 0, 2, 100, [3, 1]), 6);
  assert.equal(localTarget(8, 1, 2, 100, [3, 1]), 2);
});

test('weighted plans: users, fds and feeder rows follow the weights; user i still reads row i mod R', () => {
  const plans = planAgents(sessions({ load: { users: 40 } }), 2, [3, 1]) as SessionPlan[];
  assert.deepEqual(plans.map((plan) => plan.userWeights), [[3, 1], [3, 1]]);
  assert.deepEqual(plans.map(connectionsOf), [30, 10]);
  assert.equal('userWeights' in (planAgents(sessions({ load: { users: 40 } }), 2, [2, 2])[0]!), false, 'equal weights: the plan is as before');
  for (const [units, rows, users] of [[[3, 1], 7, 100], [[1, 2, 3], 10, 1000], [[5, 1], 1_000_000, 30], [[2, 1], 12, 12]] as const) {
    const file = Array.from({ length: rows }, (_, row) => row);
    const assignment = UserAssignment.of(units.length, units);
    let shipped = 0;
    for (let agent = 0; agent < units.length; agent += 1) {
      const local = assignment.usersOf(agent, users);
      const mine = agentFeederRows(file, agent, units.length, local, units);
      shipped += mine.length;
      assert.ok(mine.length <= Math.max(1, local));
      for (let slot = 0; slot < local; slot += 1) assert.equal(mine[slot % mine.length], assignment.indexOf(agent, slot) % rows, `${units}: agent ${agent} slot ${slot}`);
    }
    if (rows > users) assert.ok(shipped <= users + units.length);
  }
});

test('source addresses: disjoint blocks per agent (by weight) when there are enough, shared round-robin when fewer', () => {
  const four = ['127.0.0.2', '127.0.0.3', '127.0.0.4', '127.0.0.5'];
  assert.deepEqual(splitSourceAddresses(four, 2), [['127.0.0.2', '127.0.0.3'], ['127.0.0.4', '127.0.0.5']]);
  assert.deepEqual(splitSourceAddresses(four, 2, [3, 1]), [['127.0.0.2', '127.0.0.3', '127.0.0.4'], ['127.0.0.5']]);
  assert.deepEqual(splitSourceAddresses(four.slice(0, 3), 3), [['127.0.0.2'], ['127.0.0.3'], ['127.0.0.4']]);
  assert.deepEqual(splitSourceAddresses(four.slice(0, 2), 3), [['127.0.0.2', '127.0.0.3'], ['127.0.0.3', '127.0.0.2'], ['127.0.0.2', '127.0.0.3']]);
  assert.deepEqual(splitSourceAddresses([], 2), [[], []]);
  const plans = planAgents(sessions({ load: { users: 10 }, connection: { sourceAddresses: four } }), 2) as SessionPlan[];
  assert.deepEqual(plans.map((plan) => plan.connection.sourceAddresses), [['127.0.0.2', '127.0.0.3'], ['127.0.0.4', '127.0.0.5']]);
});

test('plan.userWeights on the wire: accepted when one whole number per agent, refused otherwise', () => {
  const plan = planAgents(sessions({ load: { users: 8 } }), 2, [3, 1])[0]!;
  const wire = (patch: Record<string, unknown>): unknown => parseCoordinatorMessage(JSON.parse(JSON.stringify({ type: 'plan', wireVersion, plan: { ...plan, ...patch } })) as unknown);
  const parsed = wire({}) as { plan: SessionPlan };
  assert.deepEqual(parsed.plan.userWeights, [3, 1]);
  for (const bad of [[3], [3, 0], [1.5, 1], [3, '1'], [999_999, 2], 'x']) assert.throws(() => wire({ userWeights: bad }), WireError, JSON.stringify(bad));
});

/** Local plans of a ws scenario whose users connect to `url` (feeder rows: ports). */
function portPlans(users: number, agents: number, url: string, sourceAddresses: string[] = [], ports?: string[]): SessionPlan[] {
  const feeder = ports === undefined ? {} : { feeder: 'nodes.csv' };
  const scenario = sessions({ load: { users }, flow: [{ http: { url: '/ticket', capture: { node: 'url' } } }, { connect: { url } }], connection: { sourceAddresses }, ...feeder });
  const withFeeder = ports === undefined ? scenario : { ...scenario, feeder: { file: 'nodes.csv', columns: ['port'], rows: ports.map((port) => [port]) } };
  return planAgents(withFeeder, agents) as SessionPlan[];
}

test('port preflight: users count per destination without source addresses, per source address with them', () => {
  const refused = (plans: SessionPlan[], ports: number): string => {
    try {
      preflightPorts(plans, ports);
    } catch (error) {
      assert.ok(error instanceof PreflightError);
      return error.message;
    }
    return 'accepted';
  };
  // One destination: 30 users need 30 ports of its range.
  assert.match(refused(portPlans(30, 2, '/ws'), 29), /^30 users on this host to 127\.0\.0\.1:9000 need 30 ephemeral ports but one source address has 29 towards one destination: list 2 or more addresses/);
  assert.equal(refused(portPlans(30, 2, '/ws'), 30), 'accepted');
  // A feeder spreads users over two destination ports: 15 each, a range each.
  const spread = portPlans(30, 2, 'ws://127.0.0.1:{{feeder.port}}/ws', [], ['9001', '9002']);
  assert.equal(refused(spread, 15), 'accepted');
  assert.match(refused(spread, 14), /^15 users on this host to 127\.0\.0\.1:900[12] need 15/);
  // Two agents, two addresses: one each, 15 users each, whatever the destinations.
  const own = portPlans(30, 2, 'ws://127.0.0.1:{{feeder.port}}/ws', ['127.0.0.2', '127.0.0.3'], ['9001', '9002']);
  assert.equal(refused(own, 15), 'accepted');
  assert.match(refused(own, 14), /^15 users on this host connect from 127\.0\.0\.[23], but one source address has 14 ephemeral ports for all destinations together/);
  // One address shared by both agents: a bound port serves one destination only, so all 30 count on it.
  assert.match(refused(portPlans(30, 2, 'ws://127.0.0.1:{{feeder.port}}/ws', ['127.0.0.2'], ['9001', '9002']), 20), /^30 users on this host connect from 127\.0\.0\.2/);
  // Three addresses over two agents (2 + 1): agent 0's 15 users split 8 + 7, agent 1's 15 on one.
  assert.match(refused(portPlans(30, 2, '/ws', ['127.0.0.2', '127.0.0.3', '127.0.0.4']), 14), /^15 users on this host connect from 127\.0\.0\.4/);
  assert.equal(refused(portPlans(30, 2, '/ws', ['127.0.0.2', '127.0.0.3', '127.0.0.4']), 15), 'accepted');
  // A destination from a capture is unknown before the run: no check without source addresses ...
  assert.equal(refused(portPlans(30, 2, '{{node}}'), 1), 'accepted');
  // ... but with them, the source's range is what counts.
  assert.match(refused(portPlans(30, 2, '{{node}}', ['127.0.0.2', '127.0.0.3']), 10), /^15 users on this host connect from/);
});
