/** `spear run`: its options, and a run from scenario to summary, result file and exit code. */
import { type Command, Option } from 'commander';
import { isLoopback } from '../agents/agent-server.js';
import { runScenario } from '../coordinator/run.js';
import { ExitCode, UsageError, type ExitCodeValue } from '../errors.js';
import { certificateBundleProblem } from '../pem.js';
import { noSuccessLine } from '../report/no-success.js';
import { createProgress, type ProgressMode } from '../report/progress.js';
import { writeHtmlBeside } from '../report/report-command.js';
import { checkOutput, writeResult } from '../report/result-file.js';
import type { RunResult } from '../report/result.js';
import { renderTextSummary } from '../report/text-summary.js';
import { parseDurationMs } from '../scenarios/units.js';
import type { Exits } from './exits.js';
import { listenAddressOf } from './listen-address.js';
import { addLoadOptions, agentCountOf, scenarioOf, urlArgument, type LoadFlags } from './load-flags.js';
import { readPem, tlsPairOf, type TlsPair } from './pem-flags.js';
import { collect } from './repeatable.js';
import { tokenOf } from './token-flag.js';

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

const examples = `
Examples:
  # closed model, wrk-style: 100 keep-alive connections for 10 s
  $ spear run --target http://127.0.0.1:8080 -c 100 -d 10s
  # open model at 5,000 req/s; keep the result and an HTML report
  $ spear run scenario.yaml -R 5000/s -o result.json --report html
  # on a remote agent (token from $SPEAR_TOKEN); never stop early
  $ spear run scenario.yaml --agent 10.0.0.5:7070 --abort-on-fail off
  # wait for 4 agents to dial in (spear agent --join ws://THIS-HOST:7070)
  $ spear run scenario.yaml --listen 0.0.0.0:7070 --expect-agents 4 --token-file token`;

/**
 * Adds `spear run` to the program. Its action sets process.exitCode and, once the result is out
 * (or failed), arms `exits.guard()`; a second SIGINT/SIGTERM during the run calls `exits.now(130)`.
 */
export function addRunCommand(root: Command, exits: Exits): void {
  addLoadOptions(root.command('run').argument('[scenario]', 'scenario YAML file, or the target URL itself (spear run http://127.0.0.1:8080/ -c 100 -d 10s)'))
    .description('run a load test on local agents and print the summary')
    .addHelpText('after', examples)
    .option('--agent <host:port>', 'a remote agent (spear agent --listen) to drive, HOST:PORT*W to give it W times the users, connections and rate of a *1 agent; repeatable; local agents then run only with --agents N', collect, [] as string[])
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
        process.exitCode = await run(given.file, { ...flags, ...given.flags }, exits);
      } finally {
        // The result is out (or its write failed). Local agents get SIGTERM then SIGKILL within ~4.5 s
        // if they linger; past this, nothing (a socket, a stuck agent) may keep `spear run` from exiting.
        exits.guard();
      }
    });
}

async function run(file: string | undefined, flags: RunFlags, exits: Exits): Promise<ExitCodeValue> {
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
      exits.now(ExitCode.interrupted);
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

/** `spear run --listen HOST:PORT --expect-agents N [--tls-cert --tls-key]`: where dial-in agents join, checked before any load. */
async function joinListenOf(flags: RunFlags, token: string | undefined): Promise<{ host: string; port: number; expect: number; tls: TlsPair | undefined } | undefined> {
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
  const tls = await tlsPairOf(flags.tlsCert, flags.tlsKey);
  return { ...address, expect, tls };
}
