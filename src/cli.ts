/**
 * spear's command line: run | agent | report | validate. The only module that prints final
 * errors and exits; everything else throws SpearErrors.
 */
import { readFile } from 'node:fs/promises';
import { availableParallelism } from 'node:os';
import { Command, CommanderError, Option } from 'commander';
import { runScenario } from './coordinator/run.js';
import { ExitCode, SpearError, UsageError, messageOf, type ExitCodeValue } from './errors.js';
import { certificateBundleProblem, certificateProblem, keyMatchesCertificate, privateKeyProblem, readPemFile } from './pem.js';
import { createProgress, type ProgressMode } from './report/progress.js';
import { noSuccessLine } from './report/no-success.js';
import { checkOutput, writeResult } from './report/result-file.js';
import type { RunResult } from './report/result.js';
import { renderTextSummary } from './report/text-summary.js';
import { loadScenarioFile, scenarioFromFlags, type ScenarioOverrides } from './scenarios/load.js';
import { describePlan } from './scenarios/describe-plan.js';
import { plannedAgentCount, testAgentBudget, type AgentCount } from './coordinator/agent-count.js';
import { readFdLimit } from './agents/fd-limit.js';
import { loadTargetTls } from './scenarios/tls-settings.js';
import type { RequestFlags } from './scenarios/request-flags.js';
import { parseDurationMs } from './scenarios/units.js';
import type { Scenario } from './scenarios/scenario.js';
import { report, reportFormats, writeHtmlBeside, type ReportFormat } from './report/report-command.js';
import { spearVersion } from './version.js';
import { isLoopback, listenForCoordinators } from './agents/agent-server.js';
import { joinCoordinators, joinUrl } from './agents/coordinator-joiner.js';
import { TargetPolicy } from './agents/target-policy.js';
import { hostSourceAddresses } from './agents/host-addresses.js';

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
  abortOnFail?: string;
  insecure?: boolean;
  targetCa?: string;
  method?: string;
  header: string[];
  body?: string;
  bodyFile?: string;
  contentType?: string;
}

interface RunFlags extends LoadFlags {
  agent: string[];
  token?: string;
  tokenFile?: string;
  ca?: string;
  wait?: string;
  listen?: string;
  expectAgents?: string;
  tlsCert?: string;
  tlsKey?: string;
  out?: string;
  report?: 'html';
  quiet?: boolean;
  progress?: ProgressMode;
}

function addLoadOptions(command: Command): Command {
  return command
    .option('-t, --target <url>', 'the server: a full URL (http://127.0.0.1:8080/api?x=1) is the request when the file lists none; an origin otherwise (overrides the file)')
    .option('-m, --method <method>', 'HTTP method of the --target URL\'s request (default GET)')
    .option('-H, --header <header>', '"Name: value" header for the request (repeatable; with a file\'s requests, added to each)', (value: string, previous: string[]) => [...previous, value], [] as string[])
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

async function scenarioOf(file: string | undefined, flags: LoadFlags): Promise<Scenario> {
  const overrides = { ...overridesOf(flags), request: await requestFlagsOf(flags) };
  if (file === undefined && flags.target === undefined) throw new UsageError('give a scenario file or --target URL (e.g. spear run --target http://127.0.0.1:8080 -c 100 -d 10s)');
  const scenario = file === undefined ? await scenarioFromFlags(overrides) : await loadScenarioFile(file, overrides);
  // The target's PEM files are read here, by the coordinator: agents get their text in the plan.
  return loadTargetTls(scenario, file, { insecure: flags.insecure, targetCa: flags.targetCa });
}

/** Local agents: as the scenario or --agents says, else one per core or more when the held connections need them. */
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
function urlArgument(file: string | undefined, flags: LoadFlags): { file: string | undefined; flags: LoadFlags } {
  if (file === undefined || !/^https?:\/\//i.test(file)) return { file, flags };
  if (flags.target !== undefined) throw new UsageError(`${file}: a URL argument and --target ${flags.target}: give one of them`);
  return { file: undefined, flags: { ...flags, target: file } };
}

function agentCountOf(scenario: Scenario): AgentCount {
  if (scenario.agents !== undefined) return { count: scenario.agents, reason: `${scenario.agents} agent${scenario.agents === 1 ? '' : 's'}: as asked (--agents or agents:)` };
  return plannedAgentCount(scenario, availableParallelism(), readFdLimit(), testAgentBudget());
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
  const token = await tokenOf(flags.token, flags.tokenFile);
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
    const listen = await joinListenOf(flags, token);
    // With remote or joining agents, local ones run only when asked for (--agents N or agents: N).
    const local = remote.length > 0 || listen !== undefined ? scenario.agents ?? 0 : agentCountOf(scenario).count;
    if (remote.length > 0 && token === undefined) process.stderr.write('spear: no --token or SPEAR_TOKEN: only agents on loopback without a token will accept\n');
    const ca = flags.ca === undefined ? undefined : await readPem(flags.ca, '--ca', certificateBundleProblem);
    if (scenario.tls?.key !== undefined && ((ca === undefined && remote.some((address) => !address.startsWith('wss://'))) || (listen !== undefined && listen.tls === undefined))) {
      process.stderr.write('spear: tls.key, a private key, travels to the remote agents in their plans, here over unencrypted ws://: start them with --tls-cert and pass --ca\n');
    }
    const waitMs = flags.wait === undefined ? undefined : parseDurationMs(flags.wait);
    if (flags.wait !== undefined && waitMs === undefined) throw new UsageError(`--wait ${flags.wait}: expected a duration such as 30s or 2m`);
    const log = mode === 'quiet' ? undefined : (line: string): void => void process.stderr.write(`spear: ${line}\n`);
    result = await runScenario(scenario, { agents: local, remote, listen, log, token, ca, waitMs, stop: stop.signal, events: progress });
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

/**
 * The exit code a finished run earns, by precedence: 130, 5, 7 (nothing succeeded, or aborted
 * by abortOnFail: its one-line reason goes to stderr), 99. Quiet runs also get the reason for exit 5.
 */
function outcomeOf(result: RunResult, mode: ProgressMode): ExitCodeValue {
  if (result.interrupted) return ExitCode.interrupted;
  if (result.partial) {
    // The live view already said so; quiet runs still owe the reason for exit 5.
    if (mode === 'quiet') {
      for (const agent of result.agents.filter((entry) => entry.status !== 'ok')) process.stderr.write(`spear: agent ${agent.id} ${agent.status}: ${agent.reason ?? 'no reason given'} (its reported numbers are kept; the result is partial)\n`);
    }
    return ExitCode.agent;
  }
  const noSuccess = noSuccessLine(result);
  if (noSuccess !== undefined) {
    process.stderr.write(`spear: ${noSuccess}\n`);
    return ExitCode.noSuccess;
  }
  if (result.thresholds.some((threshold) => !threshold.ok)) return ExitCode.thresholds;
  return ExitCode.ok;
}

async function validate(file: string | undefined, flags: LoadFlags): Promise<ExitCodeValue> {
  const scenario = await scenarioOf(file, flags);
  const local = scenario.remoteAgents.length > 0 ? undefined : agentCountOf(scenario);
  process.stdout.write(describePlan(scenario, local?.count ?? scenario.remoteAgents.length, file ?? '(command line)', local?.reason));
  return ExitCode.ok;
}

/** --token, else $SPEAR_TOKEN; an empty one is refused (it would mean "no authentication" by accident). */
async function tokenOf(flag: string | undefined, file: string | undefined): Promise<string | undefined> {
  if (flag !== undefined && file !== undefined) throw new UsageError('give --token or --token-file, not both');
  let token = flag ?? process.env.SPEAR_TOKEN;
  if (file !== undefined) {
    try {
      // One line: a trailing newline (echo, editors) is not part of the secret.
      token = (await readFile(file, 'utf8')).replace(/\r?\n$/, '');
    } catch (error) {
      throw new UsageError(`--token-file ${file}: cannot read it (${(error as NodeJS.ErrnoException).code ?? messageOf(error)})`);
    }
  }
  if (token === undefined) return undefined;
  const source = file !== undefined ? `--token-file ${file} is` : flag === undefined ? 'SPEAR_TOKEN is set but' : '--token is';
  if (token.trim() === '') throw new UsageError(`${source} empty: give a real secret (e.g. openssl rand -hex 32) or leave it unset on loopback`);
  return token;
}

/** Reads a PEM file a flag names and checks it (`check`: src/pem.ts); a bad file is one line naming the flag, not a stack trace. */
async function readPem(file: string, flag: string, check: (text: string) => string | undefined): Promise<string> {
  const outcome = await readPemFile(file);
  if (!outcome.ok) throw new UsageError(`${flag} ${file}: cannot read it (${outcome.problem})`);
  const problem = check(outcome.text);
  if (problem !== undefined) throw new UsageError(`${flag} ${file}: ${problem}`);
  return outcome.text;
}

/** Reads --tls-cert and --tls-key and checks them before listening. */
async function readTlsPair(certFile: string, keyFile: string): Promise<{ cert: string; key: string }> {
  const cert = await readPem(certFile, '--tls-cert', certificateProblem);
  const key = await readPem(keyFile, '--tls-key', privateKeyProblem);
  if (!keyMatchesCertificate(cert, key)) throw new UsageError(`--tls-key ${keyFile}: not the private key of the certificate in ${certFile}`);
  return { cert, key };
}

/** `--listen HOST:PORT` → host (IPv6 brackets off) and port. */
function listenAddressOf(listen: string): { host: string; port: number } {
  const match = /^(.*):(\d+)$/.exec(listen);
  if (match === null) throw new UsageError(`--listen ${listen}: expected HOST:PORT, such as 0.0.0.0:7070`);
  const port = Number(match[2]);
  if (port > 65_535) throw new UsageError(`--listen ${listen}: port ${match[2]} is out of range (0 to 65535; 0 picks a free port)`);
  return { host: match[1]!.replace(/^\[(.*)\]$/, '$1'), port };
}

/** `spear run --listen HOST:PORT --expect-agents N [--tls-cert --tls-key]`: where dial-in agents join, checked before any load. */
async function joinListenOf(flags: RunFlags, token: string | undefined): Promise<{ host: string; port: number; expect: number; tls: { cert: string; key: string } | undefined } | undefined> {
  if (flags.listen === undefined) {
    if (flags.expectAgents !== undefined || flags.tlsCert !== undefined || flags.tlsKey !== undefined) throw new UsageError('--expect-agents, --tls-cert and --tls-key go with --listen HOST:PORT (agents joining with spear agent --join)');
    return undefined;
  }
  const address = listenAddressOf(flags.listen);
  const expect = Number(flags.expectAgents);
  if (flags.expectAgents === undefined || !Number.isInteger(expect) || expect < 1 || expect > 10_000) {
    throw new UsageError(`--listen ${flags.listen}: give --expect-agents N, the number of agents (spear agent --join) to wait for, from 1 to 10000${flags.expectAgents === undefined ? '' : ` (got ${flags.expectAgents})`}`);
  }
  if (token === undefined && !isLoopback(address.host)) {
    throw new UsageError(`--listen ${flags.listen}: a coordinator off loopback must require a token: add --token SECRET (or --token-file, or set SPEAR_TOKEN) and give the agents the same`);
  }
  if ((flags.tlsCert === undefined) !== (flags.tlsKey === undefined)) throw new UsageError('--tls-cert and --tls-key go together: give both files');
  const tls = flags.tlsCert === undefined || flags.tlsKey === undefined ? undefined : await readTlsPair(flags.tlsCert, flags.tlsKey);
  return { ...address, expect, tls };
}

/**
 * `spear agent --join URL`: dials the coordinator, serves its run, dials again
 * for the next one, until SIGINT or SIGTERM (load stops at once, exit 0).
 */
async function joinAgent(given: string, options: { token: string | undefined; ca: string | undefined; source: string | undefined; targetPolicy: TargetPolicy | undefined; sourceAddresses: readonly string[] | undefined }): Promise<ExitCodeValue> {
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
    // Timestamped, as for listening agents: read next to the coordinator's log.
    log: (line) => process.stderr.write(`${new Date().toISOString()} spear agent: ${line}\n`),
  }, stop.signal);
  // A load thread still shutting down (or a stuck socket) must not keep a stopped agent alive.
  setTimeout(() => process.exit(), exitGuardMs).unref();
  return ExitCode.ok;
}

async function agent(listen: string, token: string | undefined, tls: { cert: string; key: string } | undefined, targetPolicy: TargetPolicy | undefined, sourceAddresses: readonly string[] | undefined): Promise<ExitCodeValue> {
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
    // Timestamped: an agent runs for days under a scheduler, and its log is read next to the coordinator's.
    log: (line) => process.stderr.write(`${new Date().toISOString()} spear agent: ${line}\n`),
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

/** `--help` examples, per command. */
const examples = {
  run: `
Examples:
  # closed model, wrk-style: 100 keep-alive connections for 10 s
  $ spear run --target http://127.0.0.1:8080 -c 100 -d 10s
  # open model at 5,000 req/s; keep the result and an HTML report
  $ spear run scenario.yaml -R 5000/s -o result.json --report html
  # on a remote agent (token from $SPEAR_TOKEN); never stop early
  $ spear run scenario.yaml --agent 10.0.0.5:7070 --abort-on-fail off
  # wait for 4 agents to dial in (spear agent --join ws://THIS-HOST:7070)
  $ spear run scenario.yaml --listen 0.0.0.0:7070 --expect-agents 4 --token-file token`,
  agent: `
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
  $ spear agent --listen 0.0.0.0:7070 --source-addresses 10.0.0.5,10.0.0.6`,
  report: `
Examples:
  $ spear report result.json
  $ spear report result.json --format html -o report.html
  # against a baseline; exit 99 when p99 grew by more than 10 %
  $ spear report result.json --compare baseline.json --fail-if "p99 > +10%"`,
  validate: `
Examples:
  $ spear validate scenario.yaml
  # with the overrides spear run would apply
  $ spear validate case-b.yaml -u 20000 --connect-rate 1000/s -a 4`,
} as const;

function program(): Command {
  const root = new Command('spear')
    .description('Distributed load generator for HTTP servers: closed and open models, exact HdrHistogram merging.')
    .version(spearVersion)
    .exitOverride()
    .showHelpAfterError(false);
  addLoadOptions(root.command('run').argument('[scenario]', 'scenario YAML file, or the target URL itself (spear run http://127.0.0.1:8080/ -c 100 -d 10s)'))
    .description('run a load test on local agents and print the summary')
    .addHelpText('after', examples.run)
    .option('--agent <host:port>', 'a remote agent (spear agent --listen) to drive, HOST:PORT*W to give it W times the users, connections and rate of a *1 agent; repeatable; local agents then run only with --agents N', (value: string, previous: string[]) => [...previous, value], [] as string[])
    .option('--token <secret>', 'the remote agents\' token (default: $SPEAR_TOKEN)')
    .option('--token-file <file>', 'read the token from a file (keeps it off the command line and out of ps)')
    .option('--ca <file>', 'PEM CA certificate the remote agents\' TLS certificates chain to (agents started with --tls-cert)')
    .option('--wait <time>', 'keep dialing remote agents that are not up yet (refused, unreachable) this long (default 5s); with --listen, wait this long for agents to join (default 60s)')
    .option('--listen <host:port>', 'accept agents that dial in (spear agent --join ws://HOST:PORT); with --expect-agents')
    .option('--expect-agents <n>', 'with --listen: start once this many agents joined (fails after --wait)')
    .option('--tls-cert <file>', 'with --listen: PEM certificate: serve wss:// (agents then pass --ca)')
    .option('--tls-key <file>', 'PEM private key of --tls-cert')
    .option('-o, --out <file>', 'write the result JSON here (checked before the run; - for stdout, the summary then goes to stderr)')
    .addOption(new Option('--report <format>', 'with --out: also write the report beside the result (RESULT.html)').choices(['html']))
    .option('-q, --quiet', 'no live progress (and no summary when --out is given)')
    .addOption(new Option('--progress <mode>', 'live progress style').choices(['tty', 'lines', 'quiet']))
    .action(async (file: string | undefined, flags: RunFlags) => {
      try {
        const given = urlArgument(file, flags);
        process.exitCode = await run(given.file, { ...flags, ...given.flags });
      } finally {
        // The result is out (or its write failed). Local agents get SIGTERM then SIGKILL within ~4.5 s
        // if they linger; past this, nothing (a socket, a stuck agent) may keep `spear run` from exiting.
        setTimeout(() => process.exit(), exitGuardMs).unref();
      }
    });
  root.command('report')
    .argument('<result>', 'result JSON written by spear run --out')
    .description('render a saved run: text summary, JSON summary, or HdrHistogram .hgrm files; compare with a baseline')
    .addHelpText('after', examples.report)
    .addOption(new Option('-f, --format <format>', 'output format').choices(reportFormats).default('text'))
    .option('-o, --out <path>', 'write here instead of stdout (hgrm: a path prefix, one PREFIX.<histogram>.hgrm per histogram)')
    .option('--compare <baseline>', 'show changes against a baseline result: every percentile, rps and errors, regressions marked')
    .option('--fail-if <condition>', 'with --compare: exit 99 when a change holds, e.g. "p99 > +10%" or "rps < -5%" (repeatable)', (value: string, previous: string[]) => [...previous, value], [] as string[])
    .action(async (file: string, flags: { format: ReportFormat; out?: string; compare?: string; failIf: string[] }) => {
      process.exitCode = await report(file, { format: flags.format, out: flags.out, compare: flags.compare, failIf: flags.failIf });
    });
  root.command('agent')
    .description('serve coordinators over WebSocket on a load host (--listen, or --join to dial one): one run at a time, load stops when the coordinator goes')
    .addHelpText('after', examples.agent)
    .option('--listen <host:port>', 'address to listen on, e.g. 0.0.0.0:7070 (port 0: any free port)')
    .option('--join <url>', 'instead of listening, dial the coordinator (spear run --listen) at ws(s)://HOST:PORT, run after run')
    .option('--ca <file>', 'with --join: PEM CA certificate the coordinator\'s wss:// certificate chains to')
    .option('--source <address>', 'with --join: local address to dial the coordinator from (the control link only; for the load, --source-addresses)')
    .option('--source-addresses <list>', 'comma-separated addresses of this host that ws/socketio users connect from, round-robin, instead of this agent\'s part of the scenario\'s connection.sourceAddresses (each has ~28k ephemeral ports)')
    .option('--token <secret>', 'shared secret coordinators must present (default: $SPEAR_TOKEN); required off loopback')
    .option('--token-file <file>', 'read the token from a file (keeps it off the command line and out of ps)')
    .option('--allow-target <cidr|host>', 'only send load to these networks or hosts (repeatable); default: anywhere', (value: string, previous: string[]) => [...previous, value], [] as string[])
    .option('--tls-cert <file>', 'PEM certificate: serve wss:// (coordinators then pass --ca)')
    .option('--tls-key <file>', 'PEM private key of --tls-cert')
    .action(async (flags: { listen?: string; join?: string; ca?: string; source?: string; sourceAddresses?: string; token?: string; tokenFile?: string; tlsCert?: string; tlsKey?: string; allowTarget: string[] }) => {
      if ((flags.listen === undefined) === (flags.join === undefined)) throw new UsageError('give --listen HOST:PORT (coordinators dial this agent) or --join ws://HOST:PORT (this agent dials the coordinator), one of them');
      if (flags.join !== undefined && (flags.tlsCert !== undefined || flags.tlsKey !== undefined)) throw new UsageError('--tls-cert and --tls-key serve wss:// with --listen; with --join, the coordinator serves TLS (spear run --tls-cert) and the agent trusts it with --ca');
      if (flags.listen !== undefined && (flags.ca !== undefined || flags.source !== undefined)) throw new UsageError('--ca and --source go with --join');
      if ((flags.tlsCert === undefined) !== (flags.tlsKey === undefined)) throw new UsageError('--tls-cert and --tls-key go together: give both files');
      const tls = flags.tlsCert === undefined || flags.tlsKey === undefined ? undefined : await readTlsPair(flags.tlsCert, flags.tlsKey);
      const policy = flags.allowTarget.length === 0 ? undefined : TargetPolicy.parse(flags.allowTarget);
      if (typeof policy === 'string') throw new UsageError(policy);
      const token = await tokenOf(flags.token, flags.tokenFile);
      const sourceAddresses = flags.sourceAddresses === undefined ? undefined : await hostSourceAddresses(flags.sourceAddresses);
      if (flags.join !== undefined) {
        const ca = flags.ca === undefined ? undefined : await readPem(flags.ca, '--ca', certificateBundleProblem);
        process.exitCode = await joinAgent(flags.join, { token, ca, source: flags.source, targetPolicy: policy, sourceAddresses });
      } else if (flags.listen !== undefined) {
        process.exitCode = await agent(flags.listen, token, tls, policy, sourceAddresses);
      }
    });
  addLoadOptions(root.command('validate').argument('<scenario>', 'scenario YAML file, or a target URL'))
    .description('check a scenario and print the plan without sending load')
    .addHelpText('after', examples.validate)
    .action(async (file: string, flags: LoadFlags) => {
      const given = urlArgument(file, flags);
      process.exitCode = await validate(given.file, { ...flags, ...given.flags });
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
