/**
 * The load flags `spear run` and `spear validate` share (-t, -c, -d, -R, ...): their commander
 * options and how they turn, with an optional scenario file, into one Scenario.
 */
import { readFile } from 'node:fs/promises';
import { availableParallelism } from 'node:os';
import type { Command } from 'commander';
import { readFdLimit } from '../agents/fd-limit.js';
import { plannedAgentCount, testAgentBudget, type AgentCount } from '../coordinator/agent-count.js';
import { UsageError, messageOf } from '../errors.js';
import { loadScenarioFile, scenarioFromFlags, type ScenarioOverrides } from '../scenarios/load.js';
import type { RequestFlags } from '../scenarios/request-flags.js';
import type { Scenario } from '../scenarios/scenario.js';
import { loadTargetTls } from '../scenarios/tls-settings.js';
import { collect } from './repeatable.js';

/** The load flags as commander parses them: strings, checked later by the scenario's validation. */
export interface LoadFlags {
  target?: string;
  connections?: string;
  users?: string;
  connectRate?: string;
  duration?: string;
  rate?: string;
  pipelining?: string;
  agents?: string;
  interval?: string;
  timeout?: string;
  abortOnFail?: string;
  insecure?: boolean;
  targetCa?: string;
  method?: string;
  header: string[];
  body?: string;
  bodyFile?: string;
  contentType?: string;
}

/** Adds the load options to a command; returns it, for chaining. */
export function addLoadOptions(command: Command): Command {
  return command
    .option('-t, --target <url>', 'the server: a full URL (http://127.0.0.1:8080/api?x=1) is the request when the file lists none; an origin otherwise (overrides the file)')
    .option('-m, --method <method>', 'HTTP method of the --target URL\'s request (default GET)')
    .option('-H, --header <header>', '"Name: value" header for the request (repeatable; with a file\'s requests, added to each)', collect, [] as string[])
    .option('-b, --body <text>', 'request body of the --target URL\'s request (JSON bodies get content-type application/json)')
    .option('--body-file <file>', 'read the request body from a file')
    .option('--content-type <type>', 'content-type header of the request body')
    .option('-c, --connections <n>', 'connections in total, over all agents')
    .option('-u, --users <n>', 'ws/socketio scenarios: virtual users in total, over all agents')
    .option('--connect-rate <rate>', 'ws/socketio scenarios: new users per second, e.g. 1000/s')
    .option('-d, --duration <time>', 'run length, e.g. 20s, 1m30s (ws/socketio: how long users are held after the ramp)')
    .option('-R, --rate <rate>', 'open model: constant arrival rate, e.g. 5000/s (latency from intended send time)')
    .option('--pipelining <n>', 'closed model: requests in flight per connection')
    .option('-a, --agents <n>', 'local agent processes (default: one per core)')
    .option('--interval <time>', 'report interval (default 1s)')
    .option('--timeout <time>', 'request timeout (default 30s)')
    .option('--abort-on-fail <time|off>', 'stop early when nothing succeeded and attempts failed for this long from the start (default 10s; off: never)')
    .option('--insecure', 'target TLS: do not verify the target\'s certificate (sets tls.insecure)')
    .option('--target-ca <file>', 'target TLS: PEM CA bundle to verify the target\'s certificate with, instead of the system\'s roots (sets tls.ca)');
}

function overridesOf(flags: LoadFlags): ScenarioOverrides {
  const rate = flags.rate !== undefined && /^\d+(\.\d+)?$/.test(flags.rate) ? `${flags.rate}/s` : flags.rate;
  const connectRate = flags.connectRate !== undefined && /^\d+(\.\d+)?$/.test(flags.connectRate) ? `${flags.connectRate}/s` : flags.connectRate;
  const { target, connections, users, duration, pipelining, agents, interval, timeout, abortOnFail } = flags;
  return { target, connections, users, connectRate, duration, rate, pipelining, agents, interval, timeout, abortOnFail };
}

/**
 * The scenario a command runs: the file with the flags over it, or the flags alone (--target).
 * Reads the file, a --body-file and the target's PEM files; throws UsageError or ScenarioError.
 */
export async function scenarioOf(file: string | undefined, flags: LoadFlags): Promise<Scenario> {
  const overrides = { ...overridesOf(flags), request: await requestFlagsOf(flags) };
  if (file === undefined && flags.target === undefined) throw new UsageError('give a scenario file or --target URL (e.g. spear run --target http://127.0.0.1:8080 -c 100 -d 10s)');
  const scenario = file === undefined ? await scenarioFromFlags(overrides) : await loadScenarioFile(file, overrides);
  // The target's PEM files are read here, by the coordinator: agents get their text in the plan.
  return loadTargetTls(scenario, file, { insecure: flags.insecure, targetCa: flags.targetCa });
}

/** The request flags, the body file read (bounded like a scenario's body). */
async function requestFlagsOf(flags: LoadFlags): Promise<RequestFlags> {
  if (flags.body !== undefined && flags.bodyFile !== undefined) throw new UsageError('give -b/--body or --body-file, not both');
  let body = flags.body;
  if (flags.bodyFile !== undefined) {
    try {
      body = await readFile(flags.bodyFile, 'utf8');
    } catch (error) {
      throw new UsageError(`--body-file ${flags.bodyFile}: cannot read it (${(error as NodeJS.ErrnoException).code ?? messageOf(error)})`);
    }
  }
  return { method: flags.method, headers: flags.header, body, contentType: flags.contentType };
}

/** `spear run http://host/path`: a first argument that is a URL, not a file, is the target. */
export function urlArgument(file: string | undefined, flags: LoadFlags): { file: string | undefined; flags: LoadFlags } {
  if (file === undefined || !/^https?:\/\//i.test(file)) return { file, flags };
  if (flags.target !== undefined) throw new UsageError(`${file}: a URL argument and --target ${flags.target}: give one of them`);
  return { file: undefined, flags: { ...flags, target: file } };
}

/** Local agents: as the scenario or --agents says, else one per core or more when the held connections need them. */
export function agentCountOf(scenario: Scenario): AgentCount {
  if (scenario.agents !== undefined) return { count: scenario.agents, reason: `${scenario.agents} agent${scenario.agents === 1 ? '' : 's'}: as asked (--agents or agents:)` };
  return plannedAgentCount(scenario, availableParallelism(), readFdLimit(), testAgentBudget());
}
