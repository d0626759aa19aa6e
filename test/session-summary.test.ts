import assert from 'node:assert/strict';
import { test } from 'node:test';
import { neverStartedOf } from '../src/report/session-summary.js';

// Users the ramp wanted but no agent started are spear's shortfall, not connection failures (summary.connections.neverStarted).

test('never-started users: the last stage\'s users minus the starts, for ramps that never retire users', () => {
  assert.deepEqual(neverStartedOf([{ users: 2000 }], 1597), { neverStarted: 403 });
  assert.deepEqual(neverStartedOf([{ users: 500 }, { users: 2000 }], 2000), {});
  // Reconnects are not starts: a user counts once however often it connects.
  assert.deepEqual(neverStartedOf([{ users: 10 }, { users: 10 }], 10), {});
  // Falling stages retire users and start them again: starts no longer match users.
  assert.deepEqual(neverStartedOf([{ users: 100 }, { users: 50 }, { users: 100 }], 60), {});
});
