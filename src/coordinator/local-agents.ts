import { fork } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { parseAgentMessage } from '../wire/parse.js';
import { childTransport } from '../wire/transport.js';
import type { AgentMessage, CoordinatorMessage } from '../wire/messages.js';
import { AgentHandle, type AgentHandleEvents } from './agent-handle.js';

const agentMain = fileURLToPath(new URL('../agents/agent-main.js', import.meta.url));

/**
 * Starts one agent as a child process of this coordinator, talking over
 * IPC. The child inherits stderr (its crash reports reach the user) and
 * exits by itself when the IPC channel closes.
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
  return handle;
}
