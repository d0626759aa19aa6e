import { fdReserve, fdsNeeded, readEphemeralPorts, readFdLimit } from '../agents/fd-limit.js';
import { PreflightError } from '../errors.js';
import { connectionsOf, type AgentPlan, type SessionPlan } from '../scenarios/plan.js';
import { portRanges } from './port-demand.js';

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
 * Refuses a long-connection plan whose users on this host need more
 * ephemeral ports than one port range holds (past that, connects fail with
 * EADDRNOTAVAIL, or EADDRINUSE from a source address). `plans` are the
 * agents on this host; ranges and what is approximated: `portRanges`
 * (port-demand.ts). No check when the destinations are known only at run
 * time (a URL from a ticket) and users bind no source address.
 */
export function preflightPorts(plans: readonly AgentPlan[], ports: number | null = readEphemeralPorts()): void {
  const sessions = plans.filter((plan): plan is SessionPlan => plan.protocol === 'ws' || plan.protocol === 'socketio');
  if (ports === null || sessions.length === 0) return;
  const ranges = portRanges(sessions);
  const fullest = ranges?.reduce((most, range) => (range.users > most.users ? range : most));
  if (fullest === undefined || fullest.users <= ports) return;
  const users = sessions.reduce((sum, plan) => sum + connectionsOf(plan), 0);
  // With source addresses, each takes ports for every destination: enough of them for all users.
  const needed = Math.ceil(users / ports);
  const fix = `list ${needed} or more addresses of this host under connection.sourceAddresses (e.g. 127.0.0.2, 127.0.0.3 on loopback; each agent on this host gets its own), spread users over more load hosts (spear agent --source-addresses for theirs), or widen net.ipv4.ip_local_port_range`;
  throw new PreflightError(fullest.kind === 'from'
    ? `${fullest.users} users on this host connect from ${fullest.address}, but one source address has ${ports} ephemeral ports for all destinations together (spear binds it before connecting): ${fix}`
    : `${fullest.users} users on this host to ${fullest.address} need ${fullest.users} ephemeral ports but one source address has ${ports} towards one destination: ${fix}`);
}
