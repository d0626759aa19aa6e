import { ExitCode, messageOf, PreflightError, SpearError } from '../errors.js';
import { spearVersion } from '../version.js';
import { wireVersion, type AgentMessage, type CoordinatorMessage } from '../wire/messages.js';
import type { Transport } from '../wire/transport.js';
import { connectionsOf } from '../scenarios/plan.js';
import { CoordinatorClock, testClockSkewMs } from '../sessions/clock.js';
import { fdsNeeded, readFdLimit } from './fd-limit.js';
import { LoadRun } from './load-run.js';
import type { TargetPolicy } from './target-policy.js';

export type CoordinatorLink = Transport<AgentMessage, CoordinatorMessage>;

/**
 * Serves one coordinator over `link`: ready → plan → start → intervals →
 * done. If the link closes, load stops at once (dead-man switch: a load
 * generator must never run unattended). Resolves when the session ends.
 */
export interface ServeOptions {
  /** Where this agent may send load; undefined = anywhere (local agents). */
  readonly targetPolicy?: TargetPolicy | undefined;
}

export function serveCoordinator(link: CoordinatorLink, options: ServeOptions = {}): Promise<void> {
  return new Promise((resolve) => {
    const fdLimit = readFdLimit();
    let clock = new CoordinatorClock();
    let run: LoadRun | undefined;
    let agentId = -1;

    const fail = (error: unknown): void => {
      const code = error instanceof SpearError ? error.code : 'E_AGENT_INTERNAL';
      link.send({ type: 'failed', code, message: messageOf(error) });
    };

    link.onClose(() => {
      const current = run;
      run = undefined;
      if (current === undefined) resolve();
      else void current.abort().then(resolve, resolve);
    });

    link.onMessage((message) => {
      try {
        switch (message.type) {
          case 'plan': {
            if (message.wireVersion !== wireVersion) {
              throw new SpearError('E_WIRE_VERSION', `coordinator speaks wire version ${message.wireVersion}, this agent ${wireVersion} (spear ${spearVersion}): run the same spear version on both`, ExitCode.agent);
            }
            const needed = fdsNeeded(connectionsOf(message.plan));
            if (fdLimit !== null && needed > fdLimit) {
              throw new PreflightError(`agent ${message.plan.agentId} needs ${needed} open files for ${connectionsOf(message.plan)} connections but its limit is ${fdLimit}: spread the load over more agent processes (--agents N locally, more spear agent processes and --agent flags remotely) or raise the hard limit (ulimit -Hn)`);
            }
            const plan = message.plan;
            void checkTarget(plan.target, options.targetPolicy).then(() => {
              agentId = plan.agentId;
              clock = new CoordinatorClock(testClockSkewMs(agentId));
              run = new LoadRun(plan, {
                interval: (interval) => link.send(interval),
                finished: () => link.send({ type: 'done', agentId }),
              }, clock, options.targetPolicy);
              link.send({ type: 'planned', agentId });
            }, fail);
            return;
          }
          case 'start':
            if (run === undefined) throw new SpearError('E_WIRE_ORDER', 'start before plan', ExitCode.agent);
            run.startAt(message.atMs);
            return;
          case 'stop':
            run?.stop();
            return;
          case 'ping': {
            const nowUs = clock.localUs();
            link.send({ type: 'pong', id: message.id, receivedUs: nowUs, sentUs: nowUs });
            return;
          }
          case 'clock':
            clock.correct(message.offsetUs, message.uncertaintyUs);
            return;
        }
      } catch (error) {
        fail(error);
      }
    });

    link.send({ type: 'ready', wireVersion, spearVersion, pid: process.pid, fdLimit });
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
