/**
 * Test-only settings read from the environment, so end-to-end tests can
 * make a real agent misbehave the way a saturated or wedged one does.
 * Unset in normal use; each reader returns the harmless default then.
 */

/** A span in which the load loop is kept busy: `afterMs` past the start barrier, for `forMs`. */
export interface BusySpan {
  readonly afterMs: number;
  readonly forMs: number;
}

/**
 * SPEAR_TEST_BUSY="AGENT:AFTER_MS:FOR_MS[,…]": agent AGENT's load loop spins
 * for FOR_MS, AFTER_MS after the start (a saturated agent, on purpose).
 */
export function testBusySpans(agentId: number, environment: NodeJS.ProcessEnv = process.env): BusySpan[] {
  const raw = environment.SPEAR_TEST_BUSY;
  if (raw === undefined || raw === '') return [];
  const spans: BusySpan[] = [];
  for (const entry of raw.split(',')) {
    const [agent, afterMs, forMs] = entry.split(':').map(Number);
    if (agent === agentId && Number.isFinite(afterMs) && Number.isFinite(forMs)) spans.push({ afterMs: afterMs!, forMs: forMs! });
  }
  return spans;
}

/**
 * SPEAR_TEST_IGNORE_STOP="AGENT[,…]": the agent ignores stop, its own end
 * of run, a closed coordinator link and SIGTERM (a wedged agent), so tests
 * can prove the coordinator still ends the run and leaves no process behind.
 */
export function testIgnoresStop(agentId: number, environment: NodeJS.ProcessEnv = process.env): boolean {
  const raw = environment.SPEAR_TEST_IGNORE_STOP;
  if (raw === undefined || raw === '') return false;
  return raw.split(',').map(Number).includes(agentId);
}
