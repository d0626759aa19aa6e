/**
 * spear's command line: run | agent | report | validate. The only module that prints final
 * errors and exits; everything else throws SpearErrors.
 */
import { createPrivateKey, X509Certificate } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { createSecureContext } from 'node:tls';
import { availableParallelism } from 'node:os';
import { Command, CommanderError, Option } from 'commander';
import { runScenario } from './coordinator/run.js';
import { ExitCode, SpearError, UsageError, errnoOf, messageOf, type ExitCodeValue } from './errors.js';
import { createProgress, type ProgressMode } from './report/progress.js';
import { checkOutput, writeResult } from './report/result-file.js';
import type { RunResult } from './report/result.js';
import { renderTextSummary } from './report/text-summary.js';
import { loadScenarioFile, scenarioFromFlags, type ScenarioOverrides } from './scenarios/load.js';
import { describePlan } from './scenarios/describe-plan.js';
import type { Scenario } from './scenarios/scenario.js';
import { report, reportFormats, writeHtmlBeside, type ReportFormat } from './report/report-command.js';
import { spearVersion } from './version.js';
import { isLoopback, listenForCoordinators } from './agents/agent-server.js';
import { TargetPolicy } from './agents/target-policy.js';

interface LoadFlags {
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
}

interface RunFlags extends LoadFlags {
  agent: string[];
  token?: string;
  ca?: string;
  out?: string;
  report?: 'html';
  quiet?: boolean;
  progress?: ProgressMode;
}

function addLoadOptions(command: Command): Command {
  return command
    .option('-t, --target <url>', 'server origin, e.g. http://127.0.0.1:8080 (overrides the file)')
    .option('-c, --connections <n>', 'connections in total, over all agents')
    .option('-u, --users <n>', 'ws/socketio scenarios: virtual users in total, over all agents')
    .option('--connect-rate <rate>', 'ws/socketio scenarios: new users per second, e.g. 1000/s')
    .option('-d, --duration <time>', 'run length, e.g. 20s, 1m30s (ws/socketio: how long users are held after the ramp)')
    .option('-R, --rate <rate>', 'open model: constant arrival rate, e.g. 5000/s (latency from intended send time)')
    .option('--pipelining <n>', 'closed model: requests in flight per connection')
    .option('-a, --agents <n>', 'local agent processes (default: one per core)')
    .option('--interval <time>', 'report interval (default 1s)')
    .option('--timeout <time>', 'request timeout (default 30s)');
}

function overridesOf(flags: LoadFlags): ScenarioOverrides {
  const rate = flags.rate !== undefined && /^\d+(\.\d+)?$/.test(flags.rate) ? `${flags.rate}/s` : flags.rate;
  const connectRate = flags.connectRate !== undefined && /^\d+(\.\d+)?$/.test(flags.connectRate) ? `${flags.connectRate}/s` : flags.connectRate;
  const { target, connections, users, duration, pipelining, agents, interval, timeout } = flags;
  return { target, connections, users, connectRate, duration, rate, pipelining, agents, interval, timeout };
}

async function scenarioOf(file: string | undefined, flags: LoadFlags): Promise<Scenario> {
  const overrides = overridesOf(flags);
  if (file !== undefined) return loadScenarioFile(file, overrides);
  if (flags.target === undefined) throw new UsageError('give a scenario file or --target URL (e.g. spear run --target http://127.0.0.1:8080 -c 100 -d 10s)');
  return scenarioFromFlags(overrides);
}

function agentCountOf(scenario: Scenario): number {
  return scenario.agents ?? availableParallelism();
}

/** Longest `spear run` lingers after its result (agents shutting down). */
const exitGuardMs = 8000;

async function run(file: string | undefined, flags: RunFlags): Promise<ExitCodeValue> {
  if (flags.report !== undefined && flags.out === undefined) throw new UsageError('--report html writes beside the result file: add --out result.json');
  if (flags.report !== undefined && flags.out === '-') throw new UsageError('--report html writes beside the result file: give --out a file name, not -');
  const scenario = await scenarioOf(file, flags);
  // Before any load: a result that cannot be written must not cost a run.
  const output = flags.out === undefined ? undefined : await checkOutput(flags.out);
  const mode: ProgressMode = flags.quiet === true ? 'quiet' : flags.progress ?? (process.stderr.isTTY ? 'tty' : 'lines');
  const progress = createProgress(mode);
  const token = tokenOf(flags.token);
  const stop = new AbortController();
  let signals = 0;
  const onSignal = (): void => {
    signals += 1;
    if (signals === 1) {
      process.stderr.write('\nspear: stopping agents and draining in-flight requests (Ctrl-C again to quit at once)\n');
      stop.abort();
    } else {
      process.exit(ExitCode.interrupted);
    }
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  let result;
  try {
    const remote = flags.agent.length > 0 ? flags.agent : scenario.remoteAgents;
    // With remote agents, local ones run only when asked for (--agents N or agents: N).
    const local = remote.length > 0 ? scenario.agents ?? 0 : agentCountOf(scenario);
    if (remote.length > 0 && token === undefined) process.stderr.write('spear: no --token or SPEAR_TOKEN: only agents on loopback without a token will accept\n');
    const ca = flags.ca === undefined ? undefined : await readPem(flags.ca, '--ca');
    result = await runScenario(scenario, { agents: local, remote, token, ca, stop: stop.signal, events: progress });
  } finally {
    progress.close();
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  }
  // The summary first: whatever happens to the file, the numbers are on the screen.
  // With the JSON on stdout (-o -), the summary goes to stderr.
  if (flags.quiet !== true || flags.out === undefined) (output?.kind === 'stdout' ? process.stderr : process.stdout).write(renderTextSummary(result));
  const code = outcomeOf(result, mode);
  if (flags.out !== undefined) await writeResult(flags.out, result);
  if (flags.out !== undefined && flags.report === 'html') process.stderr.write(`spear: report written to ${await writeHtmlBeside(flags.out, result)}\n`);
  return code;
}

/** The exit code a finished run earns; quiet runs also get the reason for exit 5 on stderr. */
function outcomeOf(result: RunResult, mode: ProgressMode): ExitCodeValue {
  if (result.interrupted) return ExitCode.interrupted;
  if (result.partial) {
    // The live view already said so; quiet runs still owe the reason for exit 5.
    if (mode === 'quiet') {
      for (const agent of result.agents.filter((entry) => entry.status !== 'ok')) process.stderr.write(`spear: agent ${agent.id} ${agent.status}: ${agent.reason ?? 'no reason given'} (its reported numbers are kept; the result is partial)\n`);
    }
    return ExitCode.agent;
  }
  if (result.thresholds.some((threshold) => !threshold.ok)) return ExitCode.thresholds;
  return ExitCode.ok;
}

async function validate(file: string, flags: LoadFlags): Promise<ExitCodeValue> {
  const scenario = await scenarioOf(file, flags);
  process.stdout.write(describePlan(scenario, scenario.remoteAgents.length > 0 ? scenario.remoteAgents.length : agentCountOf(scenario), file));
  return ExitCode.ok;
}

/** --token, else $SPEAR_TOKEN; an empty one is refused (it would mean "no authentication" by accident). */
function tokenOf(flag: string | undefined): string | undefined {
  const token = flag ?? process.env.SPEAR_TOKEN;
  if (token === undefined) return undefined;
  if (token.trim() === '') throw new UsageError(`${flag === undefined ? 'SPEAR_TOKEN is set but' : '--token is'} empty: give a real secret (e.g. openssl rand -hex 32) or leave it unset on loopback`);
  return token;
}

async function readPem(file: string, flag: string): Promise<string> {
  try {
    return await readFile(file, 'utf8');
  } catch (error) {
    throw new UsageError(`${flag} ${file}: cannot read it (${errnoOf(error) ?? messageOf(error)})`);
  }
}

/** Reads --tls-cert and --tls-key and checks them before listening: a bad file is named, not a stack trace. */
async function readTlsPair(certFile: string, keyFile: string): Promise<{ cert: string; key: string }> {
  const cert = await readPem(certFile, '--tls-cert');
  const key = await readPem(keyFile, '--tls-key');
  // OpenSSL's own messages vary by version and say nothing of which file: name the file instead.
  if (!succeeds(() => new X509Certificate(cert))) throw new UsageError(`--tls-cert ${certFile}: not a PEM certificate: give a file with a -----BEGIN CERTIFICATE----- block`);
  if (!succeeds(() => createPrivateKey(key))) throw new UsageError(`--tls-key ${keyFile}: not an unencrypted PEM private key: give a file with a -----BEGIN ... PRIVATE KEY----- block`);
  if (!succeeds(() => createSecureContext({ cert, key }))) throw new UsageError(`--tls-key ${keyFile}: not the private key of the certificate in ${certFile}`);
  return { cert, key };
}

function succeeds(attempt: () => unknown): boolean {
  try {
    attempt();
    return true;
  } catch {
    return false;
  }
}

async function agent(listen: string, token: string | undefined, tls: { cert: string; key: string } | undefined, targetPolicy: TargetPolicy | undefined): Promise<ExitCodeValue> {
  const match = /^(.*):(\d+)$/.exec(listen);
  if (match === null) throw new UsageError(`--listen ${listen}: expected HOST:PORT, such as 0.0.0.0:7070`);
  const host = match[1]!.replace(/^\[(.*)\]$/, '$1');
  const port = Number(match[2]);
  if (port > 65_535) throw new UsageError(`--listen ${listen}: port ${match[2]} is out of range (0 to 65535; 0 picks a free port)`);
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
    ...(testWire === undefined ? {} : { wireVersion: Number(testWire) }),
    log: (line) => process.stderr.write(`spear agent: ${line}\n`),
  });
  process.stdout.write(`spear agent listening on ${server.url}${token === undefined ? ' (no token: loopback only)' : ''}\n`);
  await new Promise<void>((resolve) => {
    const stop = (): void => resolve();
    process.once('SIGINT', stop);
    process.once('SIGTERM', stop);
  });
  await server.close();
  // A load thread still shutting down (or a stuck socket) must not keep a stopped agent alive.
  setTimeout(() => process.exit(), exitGuardMs).unref();
  return ExitCode.ok;
}

function program(): Command {
  const root = new Command('spear')
    .description('Distributed load generator for HTTP servers: closed and open models, exact HdrHistogram merging.')
    .version(spearVersion)
    .exitOverride()
    .showHelpAfterError(false);
  addLoadOptions(root.command('run').argument('[scenario]', 'scenario YAML file (optional with --target)'))
    .description('run a load test on local agents and print the summary')
    .option('--agent <host:port>', 'a remote agent (spear agent --listen) to drive; repeatable; local agents then run only with --agents N', (value: string, previous: string[]) => [...previous, value], [] as string[])
    .option('--token <secret>', 'the remote agents\' token (default: $SPEAR_TOKEN)')
    .option('--ca <file>', 'PEM CA certificate the remote agents\' TLS certificates chain to (agents started with --tls-cert)')
    .option('-o, --out <file>', 'write the result JSON here (checked before the run; - for stdout, the summary then goes to stderr)')
    .addOption(new Option('--report <format>', 'with --out: also write the report beside the result (RESULT.html)').choices(['html']))
    .option('-q, --quiet', 'no live progress (and no summary when --out is given)')
    .addOption(new Option('--progress <mode>', 'live progress style').choices(['tty', 'lines', 'quiet']))
    .action(async (file: string | undefined, flags: RunFlags) => {
      try {
        process.exitCode = await run(file, flags);
      } finally {
        // The result is out (or its write failed). Local agents get SIGTERM then SIGKILL within ~4.5 s
        // if they linger; past this, nothing (a socket, a stuck agent) may keep `spear run` from exiting.
        setTimeout(() => process.exit(), exitGuardMs).unref();
      }
    });
  root.command('report')
    .argument('<result>', 'result JSON written by spear run --out')
    .description('render a saved run: text summary, JSON summary, or HdrHistogram .hgrm files; compare with a baseline')
    .addOption(new Option('-f, --format <format>', 'output format').choices(reportFormats).default('text'))
    .option('-o, --out <path>', 'write here instead of stdout (hgrm: a path prefix, one PREFIX.<histogram>.hgrm per histogram)')
    .option('--compare <baseline>', 'show changes against a baseline result: every percentile, rps and errors, regressions marked')
    .option('--fail-if <condition>', 'with --compare: exit 99 when a change holds, e.g. "p99 > +10%" or "rps < -5%" (repeatable)', (value: string, previous: string[]) => [...previous, value], [] as string[])
    .action(async (file: string, flags: { format: ReportFormat; out?: string; compare?: string; failIf: string[] }) => {
      process.exitCode = await report(file, { format: flags.format, out: flags.out, compare: flags.compare, failIf: flags.failIf });
    });
  root.command('agent')
    .description('serve coordinators over WebSocket on a load host: one run at a time, load stops when the coordinator goes')
    .requiredOption('--listen <host:port>', 'address to listen on, e.g. 0.0.0.0:7070 (port 0: any free port)')
    .option('--token <secret>', 'shared secret coordinators must present (default: $SPEAR_TOKEN); required off loopback')
    .option('--allow-target <cidr|host>', 'only send load to these networks or hosts (repeatable); default: anywhere', (value: string, previous: string[]) => [...previous, value], [] as string[])
    .option('--tls-cert <file>', 'PEM certificate: serve wss:// (coordinators then pass --ca)')
    .option('--tls-key <file>', 'PEM private key of --tls-cert')
    .action(async (flags: { listen: string; token?: string; tlsCert?: string; tlsKey?: string; allowTarget: string[] }) => {
      if ((flags.tlsCert === undefined) !== (flags.tlsKey === undefined)) throw new UsageError('--tls-cert and --tls-key go together: give both files');
      const tls = flags.tlsCert === undefined || flags.tlsKey === undefined ? undefined : await readTlsPair(flags.tlsCert, flags.tlsKey);
      const policy = flags.allowTarget.length === 0 ? undefined : TargetPolicy.parse(flags.allowTarget);
      if (typeof policy === 'string') throw new UsageError(policy);
      process.exitCode = await agent(flags.listen, tokenOf(flags.token), tls, policy);
    });
  addLoadOptions(root.command('validate').argument('<scenario>', 'scenario YAML file'))
    .description('check a scenario and print the plan without sending load')
    .action(async (file: string, flags: LoadFlags) => {
      process.exitCode = await validate(file, flags);
    });
  return root;
}

async function main(): Promise<void> {
  try {
    await program().parseAsync(process.argv);
  } catch (error) {
    if (error instanceof CommanderError) {
      process.exitCode = error.exitCode === 0 ? ExitCode.ok : ExitCode.usage;
      return;
    }
    if (error instanceof SpearError) {
      process.stderr.write(`spear: ${error.message}\n`);
      process.exitCode = error.exitCode;
      return;
    }
    process.stderr.write(`spear: internal error: ${messageOf(error)}\n${error instanceof Error ? error.stack ?? '' : ''}\n`);
    process.exitCode = ExitCode.internal;
  }
}

await main();
