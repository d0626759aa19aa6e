import { fdReserve, fdsNeeded, readEphemeralPorts, readFdLimit } from '../agents/fd-limit.js';
import { PreflightError } from '../errors.js';
import { connectionsOf, type AgentPlan } from '../scenarios/plan.js';

/**
 * Refuses, before any process starts, a plan that local agents cannot hold:
 * each agent is a process with its own open-file limit (every connection is
 * a descriptor, plus a reserve the agent keeps for itself). The message
 * names the agent count that would fit.
 */
export function preflightLocal(plans: readonly AgentPlan[], fdLimit: number | null = readFdLimit()): void {
  if (fdLimit === null) return;
  const largest = Math.max(...plans.map(connectionsOf));
  const needed = fdsNeeded(largest);
  if (needed <= fdLimit) return;
  const total = plans.reduce((sum, plan) => sum + connectionsOf(plan), 0);
  const perAgent = fdLimit - fdReserve;
  const agentsNeeded = Math.ceil(total / Math.max(1, perAgent));
  throw new PreflightError(
    `${total} connections over ${plans.length} agent${plans.length === 1 ? '' : 's'} need ${needed} open files per agent, but the open-file limit is ${fdLimit}: use --agents ${agentsNeeded} or more (each agent is a process with its own limit), or raise the hard limit (ulimit -Hn)`,
  );
}

/**
 * Refuses a long-connection plan whose users, all on this host and all
 * connecting to one fixed URL, need more ephemeral ports towards it than the configured source
 * addresses offer (past that, connects fail with EADDRNOTAVAIL).
 */
export function preflightPorts(plans: readonly AgentPlan[], ports: number | null = readEphemeralPorts()): void {
  const first = plans[0];
  if (ports === null || first === undefined || first.protocol === 'http' || first.protocol === 'http-flow') return;
  // Only the users of the agents on this host share its ports.
  const users = plans.reduce((sum, plan) => sum + connectionsOf(plan), 0);
  // A templated connect URL (from a ticket API) may spread users over several destinations.
  if (first.flow.some((step) => step.kind === 'connect' && step.url?.includes('{{') === true)) return;
  const sources = Math.max(1, first.connection.sourceAddresses.length);
  if (users / sources <= ports) return;
  const needed = Math.ceil(users / ports);
  throw new PreflightError(
    `${users} users on this host to one destination need ${users} ephemeral ports but ${sources === 1 ? 'one source address has' : `${sources} source addresses have`} ${ports * sources} (${ports} each): list ${needed} or more addresses of this host under connection.sourceAddresses (e.g. 127.0.0.2, 127.0.0.3 on loopback), spread users over more load hosts, or widen net.ipv4.ip_local_port_range`,
  );
}
