/** `spear agent`: its options, and an agent that listens for coordinators (--listen) or dials one (--join). */
import type { Command } from 'commander';
import { isLoopback, listenForCoordinators } from '../agents/agent-server.js';
import { joinCoordinators, joinUrl } from '../agents/coordinator-joiner.js';
import { hostSourceAddresses } from '../agents/host-addresses.js';
import { TargetPolicy } from '../agents/target-policy.js';
import { ExitCode, UsageError, type ExitCodeValue } from '../errors.js';
import { certificateBundleProblem } from '../pem.js';
import type { Exits } from './exits.js';
import { listenAddressOf } from './listen-address.js';
import { readPem, tlsPairOf, type TlsPair } from './pem-flags.js';
import { collect } from './repeatable.js';
import { tokenOf } from './token-flag.js';

interface AgentFlags {
  listen?: string;
  join?: string;
  ca?: string;
  source?: string;
  sourceAddresses?: string;
  token?: string;
  tokenFile?: string;
  tlsCert?: string;
  tlsKey?: string;
  allowTarget: string[];
}

const examples = `
Examples:
  # on loopback, no token needed
  $ spear agent --listen 127.0.0.1:7070
  # on the network (token from $SPEAR_TOKEN); load only to 10.0.0.0/8
  $ spear agent --listen 0.0.0.0:7070 --allow-target 10.0.0.0/8
  # serve wss:// (coordinators then pass --ca agent.pem)
  $ spear agent --listen 0.0.0.0:7070 --tls-cert agent.pem --tls-key key.pem
  # dial out to a coordinator (spear run --listen 0.0.0.0:7070 ...), run after run
  $ spear agent --join ws://spear-coordinator:7070 --token-file /secrets/token
  # ws/socketio users connect from this host's own addresses (past ~28k ports per address)
  $ spear agent --listen 0.0.0.0:7070 --source-addresses 10.0.0.5,10.0.0.6`;

/** Timestamped: an agent runs for days under a scheduler, and its log is read next to the coordinator's. */
function agentLog(line: string): void {
  process.stderr.write(`${new Date().toISOString()} spear agent: ${line}\n`);
}

/**
 * Adds `spear agent` to the program. Its action checks the flags (UsageError before any socket),
 * serves until SIGINT or SIGTERM, sets process.exitCode and arms `exits.guard()`.
 */
export function addAgentCommand(root: Command, exits: Exits): void {
  root.command('agent')
    .description('serve coordinators over WebSocket on a load host (--listen, or --join to dial one): one run at a time, load stops when the coordinator goes')
    .addHelpText('after', examples)
    .option('--listen <host:port>', 'address to listen on, e.g. 0.0.0.0:7070 (port 0: any free port)')
    .option('--join <url>', 'instead of listening, dial the coordinator (spear run --listen) at ws(s)://HOST:PORT, run after run')
    .option('--ca <file>', 'with --join: PEM CA certificate the coordinator\'s wss:// certificate chains to')
    .option('--source <address>', 'with --join: local address to dial the coordinator from (the control link only; for the load, --source-addresses)')
    .option('--source-addresses <list>', 'comma-separated addresses of this host that ws/socketio users connect from, round-robin, instead of this agent\'s part of the scenario\'s connection.sourceAddresses (each has ~28k ephemeral ports)')
    .option('--token <secret>', 'shared secret coordinators must present (default: $SPEAR_TOKEN); required off loopback')
    .option('--token-file <file>', 'read the token from a file (keeps it off the command line and out of ps)')
    .option('--allow-target <cidr|host>', 'only send load to these networks or hosts (repeatable); default: anywhere', collect, [] as string[])
    .option('--tls-cert <file>', 'PEM certificate: serve wss:// (coordinators then pass --ca)')
    .option('--tls-key <file>', 'PEM private key of --tls-cert')
    .action(async (flags: AgentFlags) => {
      if ((flags.listen === undefined) === (flags.join === undefined)) throw new UsageError('give --listen HOST:PORT (coordinators dial this agent) or --join ws://HOST:PORT (this agent dials the coordinator), one of them');
      if (flags.join !== undefined && (flags.tlsCert !== undefined || flags.tlsKey !== undefined)) throw new UsageError('--tls-cert and --tls-key serve wss:// with --listen; with --join, the coordinator serves TLS (spear run --tls-cert) and the agent trusts it with --ca');
      if (flags.listen !== undefined && (flags.ca !== undefined || flags.source !== undefined)) throw new UsageError('--ca and --source go with --join');
      const tls = await tlsPairOf(flags.tlsCert, flags.tlsKey);
      const policy = flags.allowTarget.length === 0 ? undefined : TargetPolicy.parse(flags.allowTarget);
      if (typeof policy === 'string') throw new UsageError(policy);
      const token = await tokenOf(flags.token, flags.tokenFile);
      const sourceAddresses = flags.sourceAddresses === undefined ? undefined : await hostSourceAddresses(flags.sourceAddresses);
      if (flags.join !== undefined) {
        const ca = flags.ca === undefined ? undefined : await readPem(flags.ca, '--ca', certificateBundleProblem);
        process.exitCode = await joinAgent(flags.join, { token, ca, source: flags.source, targetPolicy: policy, sourceAddresses }, exits);
      } else if (flags.listen !== undefined) {
        process.exitCode = await listenAgent(flags.listen, token, tls, policy, sourceAddresses, exits);
      }
    });
}

/**
 * `spear agent --join URL`: dials the coordinator, serves its run, dials again
 * for the next one, until SIGINT or SIGTERM (load stops at once, exit 0).
 */
async function joinAgent(given: string, options: { token: string | undefined; ca: string | undefined; source: string | undefined; targetPolicy: TargetPolicy | undefined; sourceAddresses: readonly string[] | undefined }, exits: Exits): Promise<ExitCodeValue> {
  const url = joinUrl(given, options.ca !== undefined);
  if (options.token === undefined && !isLoopback(new URL(url).hostname)) {
    throw new UsageError(`--join ${given}: a coordinator off loopback requires a token: add --token SECRET (or --token-file, or set SPEAR_TOKEN), the one the coordinator was started with`);
  }
  const testWire = process.env.SPEAR_TEST_WIRE_VERSION;
  const stop = new AbortController();
  const onSignal = (): void => stop.abort();
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  process.stdout.write(`spear agent joining ${url}${options.token === undefined ? ' (no token: loopback only)' : ''}\n`);
  await joinCoordinators({
    url,
    token: options.token,
    ca: options.ca,
    source: options.source,
    targetPolicy: options.targetPolicy,
    sourceAddresses: options.sourceAddresses,
    wireVersion: testWire === undefined ? undefined : Number(testWire),
    log: agentLog,
  }, stop.signal);
  // A load thread still shutting down (or a stuck socket) must not keep a stopped agent alive.
  exits.guard();
  return ExitCode.ok;
}

/** `spear agent --listen HOST:PORT`: serves the coordinators that dial in until SIGINT or SIGTERM (exit 0). */
async function listenAgent(listen: string, token: string | undefined, tls: TlsPair | undefined, targetPolicy: TargetPolicy | undefined, sourceAddresses: readonly string[] | undefined, exits: Exits): Promise<ExitCodeValue> {
  const { host, port } = listenAddressOf(listen);
  if (token === undefined && !isLoopback(host)) {
    throw new UsageError(`--listen ${listen}: an agent off loopback must require a token: add --token SECRET (or set SPEAR_TOKEN) and give coordinators the same`);
  }
  const testWire = process.env.SPEAR_TEST_WIRE_VERSION;
  const server = await listenForCoordinators({
    host,
    port,
    token,
    tls,
    targetPolicy,
    sourceAddresses,
    ...(testWire === undefined ? {} : { wireVersion: Number(testWire) }),
    log: agentLog,
  });
  process.stdout.write(`spear agent listening on ${server.url}${token === undefined ? ' (no token: loopback only)' : ''}\n`);
  await new Promise<void>((resolve) => {
    const stop = (): void => resolve();
    process.once('SIGINT', stop);
    process.once('SIGTERM', stop);
  });
  await server.close();
  // A load thread still shutting down (or a stuck socket) must not keep a stopped agent alive.
  exits.guard();
  return ExitCode.ok;
}
