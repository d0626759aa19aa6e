import assert from 'node:assert/strict';
import { test } from 'node:test';
import { BroadcastCoverage } from '../src/coordinator/broadcast-coverage.js';

test('the least coverage over running agents, against a plain scan, under random reports and endings', () => {
  let state = 7;
  const rand = (n: number): number => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = Math.imul(state ^ (state >>> 15), state | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return Math.floor((((t ^ (t >>> 14)) >>> 0) / 4294967296) * n);
  };
  for (let round = 0; round < 300; round += 1) {
    const agents = Array.from({ length: 1 + rand(round % 2 === 0 ? 12 : 60) }, (_, index) => index * 5);
    const coverage = new BroadcastCoverage([...agents, ...agents.slice(0, 3)]);
    const plain = new Map(agents.map((agent) => [agent, Number.NEGATIVE_INFINITY]));
    // Half the rounds start with every agent reported once, so that ends and raises move the least.
    if (round % 4 < 2) {
      for (const agent of agents) {
        plain.set(agent, rand(10_000));
        coverage.raise(agent, plain.get(agent)!);
      }
    }
    for (let step = 0; step < 200; step += 1) {
      const agent = rand(4) === 0 ? 1 + rand(200) : agents[rand(agents.length)]!;
      if (rand(6) === 0) {
        assert.equal(coverage.remove(agent), plain.delete(agent));
      } else {
        const endMs = (Number.isFinite(plain.get(agent)) ? plain.get(agent)! : 0) + rand(30_000) - 500;
        const raised = plain.has(agent) && endMs > plain.get(agent)!;
        assert.equal(coverage.raise(agent, endMs), raised);
        if (raised) plain.set(agent, endMs);
      }
      assert.equal(coverage.least, Math.min(...plain.values()), `round ${round} step ${step}`);
    }
  }
});
