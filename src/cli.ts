/**
 * spear's command line: run | agent | report | validate. The only module that prints final
 * errors and exits; everything else throws SpearErrors. Each command's options and action
 * live in src/cli/<command>-command.ts.
 */
import { Command, CommanderError } from 'commander';
import { addAgentCommand } from './cli/agent-command.js';
import type { Exits } from './cli/exits.js';
import { addReportCommand } from './cli/report-command.js';
import { addRunCommand } from './cli/run-command.js';
import { addValidateCommand } from './cli/validate-command.js';
import { ExitCode, SpearError, messageOf } from './errors.js';
import { spearVersion } from './version.js';

/** Longest `spear run` (or a stopped agent) lingers after its result (agents shutting down). */
const exitGuardMs = 8000;

const exits: Exits = {
  now: (code) => process.exit(code),
  guard: () => void setTimeout(() => process.exit(), exitGuardMs).unref(),
};

function program(): Command {
  const root = new Command('spear')
    .description('Distributed load generator for HTTP servers: closed and open models, exact HdrHistogram merging.')
    .version(spearVersion)
    .exitOverride()
    .showHelpAfterError(false);
  // The order here is the order of `spear --help`.
  addRunCommand(root, exits);
  addReportCommand(root);
  addAgentCommand(root, exits);
  addValidateCommand(root);
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
