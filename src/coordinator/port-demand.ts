import type { Step } from '../scenarios/flow.js';
import { connectionsOf, type SessionPlan } from '../scenarios/plan.js';
import { compileTemplate, renderTemplate, variablesIn } from '../sessions/template.js';

/**
 * One ephemeral port range and the users of this host's agents that take a
 * port from it: a source address (`from`, when users bind to one) or a
 * destination address and port (`to`, when the system picks the source).
 */
export interface PortRange {
  readonly kind: 'from' | 'to';
  /** The source address, or the destination as host:port. */
  readonly address: string;
  readonly users: number;
}

/**
 * The port ranges `plans` (long-connection plans of agents on one host)
 * draw from, and how many users each, counted per agent and local slot as
 * the agents assign them. Which users share a range follows Linux:
 *
 * - With `connection.sourceAddresses`, spear binds each connection to its
 *   source address before connecting (Node cannot set
 *   IP_BIND_ADDRESS_NO_PORT), and a port bound that way is taken for every
 *   destination: one range per source address, whatever the users connect
 *   to. Measured in a network namespace with a 10-port range: 10 bound
 *   connects in all over two destination ports, 8 + 8 unbound ones.
 * - Without, connect() picks a port per destination: one range per
 *   destination, the one the flow's first `connect` step names. A URL
 *   built from `{{feeder.…}}` columns (and constants) is rendered for each
 *   feeder row the agent's users read, so users spread over several
 *   destination ports count per port.
 *
 * Approximations, all on the generous side: destinations are compared as
 * host:port text (two names of one address count apart); ports the host
 * already uses (listening servers, other programs, TIME_WAIT of earlier
 * connections) are not subtracted; reconnects are not counted. Returns
 * undefined when the destinations cannot be known before the run (a URL
 * from a capture, such as a ticket's node address, or any other variable).
 * Pure.
 */
export function portRanges(plans: readonly SessionPlan[]): PortRange[] | undefined {
  const counts = new Map<string, PortRange>();
  const add = (kind: PortRange['kind'], address: string, users: number): void => {
    if (users === 0) return;
    const key = `${kind} ${address}`;
    counts.set(key, { kind, address, users: (counts.get(key)?.users ?? 0) + users });
  };
  for (const plan of plans) {
    const users = connectionsOf(plan);
    const sources = plan.connection.sourceAddresses;
    if (sources.length > 0) {
      // Local slot k connects from sources[k mod n].
      sources.forEach((source, position) => add('from', source, spread(users, sources.length, position)));
      continue;
    }
    const destinations = destinationsOf(plan);
    if (destinations === undefined) return undefined;
    // Local slot k reads feeder row k mod (rows shipped), or the one destination.
    destinations.forEach((destination, position) => add('to', destination, spread(users, destinations.length, position)));
  }
  return [...counts.values()];
}

/** Of `users` slots taken round-robin over `count` entries, how many land on entry `position`. */
function spread(users: number, count: number, position: number): number {
  return Math.floor(users / count) + (position < users % count ? 1 : 0);
}

/**
 * Per entry of the plan's feeder rows (by local slot), the destination the
 * first connect step reaches; one entry when it is the same for all.
 * Undefined when a variable other than a feeder column decides it.
 */
function destinationsOf(plan: SessionPlan): string[] | undefined {
  const connect = firstConnect(plan.flow);
  if (connect === undefined) return [];
  const url = connect.url ?? plan.target;
  const names = variablesIn(url);
  if (names.length === 0) return definite([destinationOf(url, plan.target)]);
  const rows = plan.feeder?.rows;
  const columns = plan.feeder?.columns ?? [];
  if (rows === undefined || rows.length === 0 || !names.every((name) => name.startsWith('feeder.') && columns.includes(name.slice(7)))) return undefined;
  const template = compileTemplate(url, false);
  return definite(rows.map((row) => destinationOf(renderTemplate(template, false, { variable: (name) => row[columns.indexOf(name.slice(7))] }), plan.target)));
}

function definite(destinations: readonly (string | undefined)[]): string[] | undefined {
  return destinations.every((destination) => destination !== undefined) ? (destinations as string[]) : undefined;
}

/** "host:port" of a connect URL (relative ones resolve against the target, as users resolve them). */
function destinationOf(url: string, target: string): string | undefined {
  let parsed: URL;
  try {
    parsed = new URL(url, target);
  } catch {
    return undefined;
  }
  const secure = parsed.protocol === 'https:' || parsed.protocol === 'wss:';
  return `${parsed.hostname}:${parsed.port === '' ? (secure ? 443 : 80) : parsed.port}`;
}

/** The first connect step, depth first (into `every`): the connection a user holds. */
function firstConnect(steps: readonly Step[]): Extract<Step, { kind: 'connect' }> | undefined {
  for (const step of steps) {
    if (step.kind === 'connect') return step;
    if (step.kind === 'every') {
      const inner = firstConnect(step.steps);
      if (inner !== undefined) return inner;
    }
  }
  return undefined;
}
