/** `spear validate`: a scenario checked and its plan printed, without sending load. */
import type { Command } from 'commander';
import { ExitCode, type ExitCodeValue } from '../errors.js';
import { describePlan } from '../scenarios/describe-plan.js';
import { addLoadOptions, agentCountOf, scenarioOf, urlArgument, type LoadFlags } from './load-flags.js';

const examples = `
Examples:
  $ spear validate scenario.yaml
  # with the overrides spear run would apply
  $ spear validate case-b.yaml -u 20000 --connect-rate 1000/s -a 4`;

/** Adds `spear validate` to the program; its action prints the plan to stdout and sets process.exitCode. */
export function addValidateCommand(root: Command): void {
  addLoadOptions(root.command('validate').argument('<scenario>', 'scenario YAML file, or a target URL'))
    .description('check a scenario and print the plan without sending load')
    .addHelpText('after', examples)
    .action(async (file: string, flags: LoadFlags) => {
      const given = urlArgument(file, flags);
      process.exitCode = await validate(given.file, { ...flags, ...given.flags });
    });
}

async function validate(file: string | undefined, flags: LoadFlags): Promise<ExitCodeValue> {
  const scenario = await scenarioOf(file, flags);
  const local = scenario.remoteAgents.length > 0 ? undefined : agentCountOf(scenario);
  process.stdout.write(describePlan(scenario, local?.count ?? scenario.remoteAgents.length, file ?? '(command line)', local?.reason));
  return ExitCode.ok;
}
