/**
 * Entry point of an agent's load thread (a worker_thread started by
 * LoadThread): builds the run from the plan, takes commands from the
 * control thread and sends it interval reports. Nothing here talks to the
 * coordinator directly.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { messageOf, SpearError } from '../errors.js';
import { CoordinatorClock, testClockSkewMs } from '../sessions/clock.js';
import { number, record } from '../wire/fields.js';
import { parseCoordinatorMessage } from '../wire/parse.js';
import { wireVersion, type IntervalMessage } from '../wire/messages.js';
import { LoadRun } from './load-run.js';
import type { LoadCommand, LoadEvent } from './load-thread.js';
import { TargetPolicy } from './target-policy.js';
import { testBusySpans, testIgnoresStop } from './test-hooks.js';

const port = parentPort;
if (port === null) throw new Error('load-worker runs only as a worker thread');
const post = (event: LoadEvent): void => port.postMessage(event.type === 'interval' ? { ...event, message: cloneable(event.message) } : event);

/**
 * postMessage clones with the structured-clone algorithm, which keeps no
 * class and calls no toJSON: receipt rows cross as their wire text, and
 * the control thread parses the report as the coordinator will.
 */
function cloneable(message: IntervalMessage): unknown {
  const sessions = message.sessions;
  return sessions === undefined ? message : { ...message, sessions: { ...sessions, receipts: sessions.receipts.toJSON() } };
}

function parseCommand(value: unknown): LoadCommand {
  const fields = record(value, 'load command');
  switch (fields.type) {
    case 'start':
      return { type: 'start', atMs: number(fields, 'atMs', 'start') };
    case 'stop':
      return { type: 'stop' };
    case 'clock':
      return { type: 'clock', offsetUs: number(fields, 'offsetUs', 'clock'), uncertaintyUs: number(fields, 'uncertaintyUs', 'clock') };
    default:
      throw new Error(`load command: unknown type ${JSON.stringify(fields.type)}`);
  }
}

function policyOf(entries: unknown): TargetPolicy | undefined {
  if (!Array.isArray(entries)) return undefined;
  const policy = TargetPolicy.parse(entries.filter((entry): entry is string => typeof entry === 'string'));
  if (typeof policy === 'string') throw new Error(`allow-target: ${policy}`);
  return policy;
}

try {
  const data = record(workerData, 'worker data');
  // The plan crossed a thread boundary: validate it with the wire's own parser.
  const planMessage = parseCoordinatorMessage({ type: 'plan', wireVersion, plan: data.plan });
  if (planMessage.type !== 'plan') throw new Error('worker data: no plan');
  const plan = planMessage.plan;
  const clock = new CoordinatorClock(testClockSkewMs(plan.agentId));
  const run = new LoadRun(plan, {
    interval: (message) => post({ type: 'interval', message }),
    finished: () => post({ type: 'finished' }),
  }, clock, policyOf(data.allowTargets), testIgnoresStop(plan.agentId));
  port.on('message', (raw: unknown) => {
    try {
      const command = parseCommand(raw);
      switch (command.type) {
        case 'start':
          run.startAt(command.atMs);
          for (const span of testBusySpans(plan.agentId)) {
            setTimeout(() => burn(span.forMs), Math.max(0, command.atMs + span.afterMs - Date.now()));
          }
          return;
        case 'stop':
          run.stop();
          return;
        case 'clock':
          clock.correct(command.offsetUs, command.uncertaintyUs);
          return;
      }
    } catch (error) {
      post({ type: 'failed', code: 'E_AGENT_INTERNAL', message: messageOf(error) });
    }
  });
  post({ type: 'ready' });
} catch (error) {
  post({ type: 'failed', code: error instanceof SpearError ? error.code : 'E_AGENT_INTERNAL', message: messageOf(error) });
}

/** Test-only: keeps the load loop busy for `ms` (SPEAR_TEST_BUSY), as a saturated agent would be. */
function burn(ms: number): void {
  const until = Date.now() + ms;
  while (Date.now() < until) {
    // Spin: nothing else may run on this loop meanwhile.
  }
}
