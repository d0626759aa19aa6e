import WebSocket from 'ws';
import { AgentError, UsageError } from '../errors.js';
import { spearVersion } from '../version.js';
import { wireVersion, type AgentMessage, type CoordinatorMessage } from '../wire/messages.js';
import { parseAgentMessage } from '../wire/parse.js';
import { WebSocketTransport } from '../wire/web-socket-transport.js';
import { agentPath } from '../agents/agent-server.js';
import { AgentHandle, type AgentHandleEvents } from './agent-handle.js';

const dialTimeoutMs = 10_000;

/** `HOST:PORT` or `HOST:PORT*W`: an agent and its weight (share of HTTP connections and rate, or of users, default 1; see planAgents). */
export function parseAgentSpec(spec: string): { address: string; weight: number } {
  const star = spec.lastIndexOf('*');
  if (star < 0) return { address: spec, weight: 1 };
  const weight = Number(spec.slice(star + 1));
  if (!Number.isFinite(weight) || weight <= 0) throw new UsageError(`--agent ${spec}: the weight after * must be a number above 0, such as ${spec.slice(0, star)}*2`);
  return { address: spec.slice(0, star), weight };
}

/** "host:port", "[::1]:port" or "ws://host:port" → the agent's WebSocket URL. */
export function agentUrl(address: string): string {
  const withScheme = /^wss?:\/\//.test(address) ? address : `ws://${address}`;
  let url: URL;
  try {
    url = new URL(withScheme);
  } catch {
    throw new UsageError(`--agent ${address}: expected HOST:PORT, such as 10.0.0.5:7070`);
  }
  if (url.port === '') throw new UsageError(`--agent ${address}: give the port the agent listens on, such as ${url.hostname}:7070`);
  url.pathname = agentPath;
  return url.toString();
}

/** A dial that failed; `retryable` when the agent may just not be up yet (refused, unreachable, timed out). */
export class AgentDialError extends AgentError {
  readonly retryable: boolean;

  constructor(message: string, retryable: boolean) {
    super(message);
    this.retryable = retryable;
  }
}

const retryableCodes = new Set(['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EHOSTUNREACH', 'ENETUNREACH', 'ENOTFOUND', 'EAI_AGAIN']);

/**
 * Dials like `dialRemoteAgent`, again and again while the failure says the
 * agent may not be up yet (refused, unreachable, unresolved, timed out),
 * for up to `waitMs`: a scheduler may start agents and the coordinator
 * together. Refusals (token, version, busy) fail at once.
 */
export async function dialRemoteAgentWaiting(id: number, address: string, token: string | undefined, events: AgentHandleEvents, ca: string | undefined, waitMs: number): Promise<AgentHandle> {
  const deadline = performance.now() + waitMs;
  let pauseMs = 100;
  for (;;) {
    try {
      return await dialRemoteAgent(id, address, token, events, ca);
    } catch (error) {
      const left = deadline - performance.now();
      if (!(error instanceof AgentDialError) || !error.retryable || left <= 0) {
        if (error instanceof AgentDialError && error.retryable && waitMs > 0) throw new AgentError(`${error.message} (tried for ${Math.round(waitMs / 1000)}s: --wait)`);
        throw error;
      }
      await new Promise((resolve) => setTimeout(resolve, Math.min(pauseMs, left)));
      pauseMs = Math.min(2000, pauseMs * 2);
    }
  }
}

/**
 * Dials a remote `spear agent --listen` and returns its handle once the
 * WebSocket is up (the agent then says ready). A refused token, version or
 * busy agent becomes an AgentError carrying the agent's own one-line reason.
 */
export function dialRemoteAgent(id: number, address: string, token: string | undefined, events: AgentHandleEvents, ca?: string): Promise<AgentHandle> {
  // A CA to trust means the agents serve TLS.
  const url = agentUrl(ca !== undefined && !/^wss?:\/\//.test(address) ? `wss://${address}` : address);
  const label = `agent ${id} (${address})`;
  return new Promise((resolve, reject) => {
    const socket = new WebSocket(url, {
      headers: { ...(token === undefined ? {} : { authorization: `Bearer ${token}` }), 'x-spear-wire': String(wireVersion), 'x-spear-version': spearVersion },
      perMessageDeflate: false,
      handshakeTimeout: dialTimeoutMs,
      maxPayload: 256 * 1024 * 1024,
      ...(ca === undefined ? {} : { ca }),
    });
    let settled = false;
    const fail = (message: string, retryable = false): void => {
      if (settled) return;
      settled = true;
      socket.terminate();
      reject(new AgentDialError(`${label}: ${message}`, retryable));
    };
    socket.on('unexpected-response', (_request, response) => {
      let body = '';
      response.setEncoding('utf8');
      response.on('data', (chunk: string) => {
        body += chunk;
      });
      response.on('end', () => fail(`refused (HTTP ${response.statusCode ?? 0}): ${body.trim() || 'no reason given'}`));
    });
    socket.on('error', (error: NodeJS.ErrnoException) => {
      const code = error.code ?? '';
      const hint = code === 'ECONNREFUSED'
        ? ': is `spear agent --listen` running there?'
        : /CERT|SELF_SIGNED|UNABLE_TO_VERIFY/.test(code) ? ': pass --ca with the CA certificate the agent\'s --tls-cert chains to' : '';
      fail(`cannot connect (${error.code ?? error.message})${hint}`, retryableCodes.has(code) || /timed out/i.test(error.message));
    });
    socket.on('open', () => {
      if (settled) return;
      settled = true;
      const link = new WebSocketTransport<CoordinatorMessage, AgentMessage>(socket, parseAgentMessage);
      resolve(new AgentHandle(id, label, link, events, address));
    });
  });
}
