import assert from 'node:assert/strict';
import { test } from 'node:test';
import { startLimits, startOverdue } from '../src/agents/start-deadline.js';

test('a load thread starting on a starved host is slow, not failed; one that had the CPU and hung, or took a minute, is', () => {
  const started = 1_000_000;
  const cpu = 5_000_000;
  // 30 s of wall time with 0.8 s of CPU (a host at load 20 on 2 cores): still starting.
  assert.equal(startOverdue(started, cpu, started + 30_000, cpu + 800_000), undefined);
  // Its CPU budget spent (a thread spinning in its start-up): given up, however little wall time passed.
  assert.match(startOverdue(started, cpu, started + 10_500, cpu + startLimits.cpuBudgetMs * 1000) ?? '', /did not start after 10 s of CPU/);
  // No CPU at all (blocked) but past the wall-time cap: given up.
  assert.match(startOverdue(started, cpu, started + startLimits.wallCapMs, cpu) ?? '', /did not start within 60s/);
  assert.equal(startOverdue(started, cpu, started + startLimits.wallCapMs - 1, cpu), undefined);
});
