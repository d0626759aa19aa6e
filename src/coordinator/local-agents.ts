import { fork } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { parseAgentMessage } from '../wire/parse.js';
import { childTransport } from '../wire/transport.js';
import type { AgentMessage, CoordinatorMessage } from '../wire/messages.js';
import { AgentHandle, type AgentHandleEvents } from './agent-handle.js';

const agentMain = fileURLToPath(new URL('../agents/agent-main.js', import.meta.url));

/** After the link closes, a local agent has this long to exit before SIGTERM, and as long again before SIGKILL. */
const exitGraceMs = 1500;

/**
 * Starts one agent as a child process of this coordinator, talking over
 * IPC. The child inherits stderr (its crash reports reach the user) and
 * exits by itself when the IPC channel closes; one that does not (wedged)
 * gets SIGTERM, then SIGKILL, so no agent outlives its run.
 */
export function spawnLocalAgent(id: number, events: AgentHandleEvents): AgentHandle {
  const child = fork(agentMain, [], { stdio: ['ignore', 'ignore', 'inherit', 'ipc'], serialization: 'json' });
  const link = childTransport<CoordinatorMessage, AgentMessage>(child, parseAgentMessage);
  const handle = new AgentHandle(id, `agent ${id} (local)`, link, events);
  child.on('exit', (code, signal) => {
    if (!handle.ended) handle.lose(`agent ${id} (local): process exited (${signal ?? `code ${code}`})`);
  });
  child.on('error', (error) => {
    if (!handle.ended) handle.lose(`agent ${id} (local): ${error.message}`);
  });
  const exited = new Promise<void>((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) resolve();
    else child.once('exit', () => resolve());
  });
  handle.afterRelease = async () => {
    if (await exitsWithin(exited, exitGraceMs)) return;
    child.kill('SIGTERM');
    if (await exitsWithin(exited, exitGraceMs)) return;
    child.kill('SIGKILL');
    await exitsWithin(exited, exitGraceMs);
  };
  return handle;
}

/** Whether `exited` settles within `ms`. The timer keeps the coordinator alive meanwhile: it must not exit before its agents. */
async function exitsWithin(exited: Promise<void>, ms: number): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  const timedOut = new Promise<boolean>((resolve) => {
    timer = setTimeout(() => resolve(false), ms);
  });
  const outcome = await Promise.race([exited.then(() => true), timedOut]);
  clearTimeout(timer);
  return outcome;
}
