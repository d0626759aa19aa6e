import { Client } from 'undici';
import type { AgentPlan } from '../../scenarios/plan.js';
import type { HttpRequestSpec } from '../../scenarios/scenario.js';
import type { ClientPool, ExchangeListener, Protocol, Slot } from '../protocol.js';
import { HttpSlot, type PreparedRequest } from './http-slot.js';

/** Builds the dispatch options once; undici reads them on every send. */
function prepare(spec: HttpRequestSpec): PreparedRequest {
  const headers: string[] = [];
  for (const [name, value] of Object.entries(spec.headers)) headers.push(name, value);
  const body = spec.body === undefined ? null : Buffer.from(spec.body);
  return { method: spec.method, path: spec.path, headers, body };
}

/**
 * HTTP/1.1 over undici: one `Client` (one socket) per planned connection, so
 * connection counts are exactly what the plan says and wrk's semantics hold.
 * HTTP/2 is pinned off (`allowH2: false`).
 */
class HttpPool implements ClientPool {
  readonly slots: Slot[] = [];
  readonly #clients: Client[] = [];
  #open = 0;

  constructor(plan: AgentPlan, listener: ExchangeListener) {
    const requests = plan.requests.map(prepare);
    const pipelining = plan.load.model === 'closed' ? plan.load.pipelining : 1;
    const onConnect = (): void => {
      this.#open += 1;
    };
    const onDisconnect = (): void => {
      this.#open -= 1;
    };
    for (let index = 0; index < plan.load.connections; index += 1) {
      const client = new Client(plan.target, {
        pipelining,
        allowH2: false,
        connect: { timeout: plan.timeouts.connectMs },
        headersTimeout: plan.timeouts.requestMs,
        bodyTimeout: plan.timeouts.requestMs,
        keepAliveTimeout: 60_000,
        keepAliveMaxTimeout: 600_000,
      });
      client.on('connect', onConnect);
      client.on('disconnect', onDisconnect);
      this.#clients.push(client);
      for (let lane = 0; lane < pipelining; lane += 1) {
        // Spread the request list over connections so every request is in use from the start.
        this.slots.push(new HttpSlot(client, requests, index * pipelining + lane + plan.agentId, listener));
      }
    }
  }

  openConnections(): number {
    return this.#open;
  }

  async close(): Promise<void> {
    await Promise.all(this.#clients.map((client) => client.destroy().catch(() => undefined)));
  }
}

export const httpProtocol = {
  name: 'http',
  createPool: (plan: AgentPlan, listener: ExchangeListener): ClientPool => new HttpPool(plan, listener),
} as const satisfies Protocol;
