import { hostname } from 'node:os';
import { ExitCode, messageOf, PreflightError, SpearError } from '../errors.js';
import { spearVersion } from '../version.js';
import { wireVersion, type AgentMessage, type CoordinatorMessage } from '../wire/messages.js';
import type { Transport } from '../wire/transport.js';
import { connectionsOf } from '../scenarios/plan.js';
import { withSourceAddresses } from '../scenarios/source-addresses.js';
import { CoordinatorClock, testClockSkewMs } from '../sessions/clock.js';
import { fdsNeeded, readFdLimit } from './fd-limit.js';
import { LoadThread } from './load-thread.js';
import { testIgnoresStop } from './test-hooks.js';
import type { AgentPlan } from '../scenarios/plan.js';
import type { TargetPolicy } from './target-policy.js';

export type CoordinatorLink = Transport<AgentMessage, CoordinatorMessage>;

/** How often the control thread says it is alive. */
const heartbeatEveryMs = 1000;

/**
 * Serves one coordinator over `link`: ready → plan → start → intervals →
 * done. If the link closes, load stops at once (dead-man switch: a load
 * generator must never run unattended). Resolves when the session ends.
 */
export interface ServeOptions {
  /** Where this agent may send load; undefined = anywhere (local agents). */
  readonly targetPolicy?: TargetPolicy | undefined;
  /**
   * This host's addresses for long-connection users to connect from
   * (`spear agent --source-addresses`), used instead of the plan's part of
   * `connection.sourceAddresses`; undefined: the plan's.
   */
  readonly sourceAddresses?: readonly string[] | undefined;
}

export function serveCoordinator(link: CoordinatorLink, options: ServeOptions = {}): Promise<void> {
  return new Promise((resolve) => {
    const fdLimit = readFdLimit();
    let clock = new CoordinatorClock();
    let load: LoadThread | undefined;
    let planning = false;
    let ended = false;
    let agentId = -1;
    let ignoreStop = false;

    const fail = (error: unknown): void => {
      const code = error instanceof SpearError ? error.code : 'E_AGENT_INTERNAL';
      link.send({ type: 'failed', code, message: messageOf(error) });
    };
    // Heartbeats come from this (control) thread whatever the load thread is doing:
    // the coordinator tells "late" (alive, busy) from "lost" (silent) by them.
    const heartbeat = setInterval(() => {
      link.send({ type: 'heartbeat', loadSilentMs: load?.silentMs() ?? 0, lastInterval: load?.lastInterval ?? -1 });
    }, heartbeatEveryMs);
    const end = (): void => {
      ended = true;
      clearInterval(heartbeat);
      const current = load;
      load = undefined;
      if (current === undefined) resolve();
      else void current.terminate().then(resolve, resolve);
    };

    link.onClose(() => {
      // The dead-man switch: no coordinator, no load. (A wedged agent, simulated in tests, ignores even this.)
      if (!ignoreStop) end();
    });

    const accept = async (plan: AgentPlan): Promise<void> => {
      await checkTarget(plan.target, options.targetPolicy);
      agentId = plan.agentId;
      ignoreStop = testIgnoresStop(agentId);
      if (ignoreStop) process.on('SIGTERM', () => undefined);
      clock = new CoordinatorClock(testClockSkewMs(agentId));
      const started = await LoadThread.start({ plan, allowTargets: options.targetPolicy?.entries }, {
        interval: (interval) => link.send(interval),
        finished: () => {
          link.send({ type: 'done', agentId });
          const current = load;
          load = undefined;
          void current?.terminate();
        },
        failed: (code, message) => link.send({ type: 'failed', code, message }),
      });
      if (ended) {
        // The coordinator left while the load thread was starting: nobody will ever stop it.
        await started.terminate();
        return;
      }
      load = started;
      link.send({ type: 'planned', agentId });
    };

    link.onMessage((message) => {
      try {
        switch (message.type) {
          case 'plan': {
            if (message.wireVersion !== wireVersion) {
              throw new SpearError('E_WIRE_VERSION', `coordinator speaks wire version ${message.wireVersion}, this agent ${wireVersion} (spear ${spearVersion}): run the same spear version on both`, ExitCode.agent);
            }
            if (load !== undefined || planning) throw new SpearError('E_WIRE_ORDER', 'a second plan while a run is in progress: one run per agent at a time', ExitCode.agent);
            const needed = fdsNeeded(connectionsOf(message.plan));
            if (fdLimit !== null && needed > fdLimit) {
              throw new PreflightError(`agent ${message.plan.agentId} needs ${needed} open files for ${connectionsOf(message.plan)} connections but its limit is ${fdLimit}: spread the load over more agent processes (--agents N locally, more spear agent processes and --agent flags remotely) or raise the hard limit (ulimit -Hn)`);
            }
            planning = true;
            void accept(withSourceAddresses(message.plan, options.sourceAddresses)).catch(fail).finally(() => {
              planning = false;
            });
            return;
          }
          case 'start':
            if (load === undefined) throw new SpearError('E_WIRE_ORDER', 'start before plan', ExitCode.agent);
            load.startAt(message.atMs);
            return;
          case 'stop':
            load?.stop();
            return;
          case 'ping': {
            const nowUs = clock.localUs();
            link.send({ type: 'pong', id: message.id, receivedUs: nowUs, sentUs: nowUs });
            return;
          }
          case 'clock':
            clock.correct(message.offsetUs, message.uncertaintyUs);
            load?.correctClock(message.offsetUs, message.uncertaintyUs);
            return;
        }
      } catch (error) {
        fail(error);
      }
    });

    link.send({ type: 'ready', wireVersion, spearVersion, pid: process.pid, host: hostname(), fdLimit });
  });
}

/** Refuses a plan whose target this agent may not load. */
async function checkTarget(target: string, policy: TargetPolicy | undefined): Promise<void> {
  if (policy === undefined) return;
  const host = new URL(target).hostname;
  if (!(await policy.allows(host))) {
    throw new SpearError('E_TARGET_NOT_ALLOWED', `this agent may not send load to ${host}: it allows only ${policy.describe()} (spear agent --allow-target)`, ExitCode.agent);
  }
}
