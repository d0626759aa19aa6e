/** `spear report`: its options; the rendering itself is src/report/report-command.ts. */
import { type Command, Option } from 'commander';
import { report, reportFormats, type ReportFormat } from '../report/report-command.js';
import { collect } from './repeatable.js';

const examples = `
Examples:
  $ spear report result.json
  $ spear report result.json --format html -o report.html
  # against a baseline; exit 99 when p99 grew by more than 10 %
  $ spear report result.json --compare baseline.json --fail-if "p99 > +10%"`;

/** Adds `spear report` to the program; its action sets process.exitCode. */
export function addReportCommand(root: Command): void {
  root.command('report')
    .argument('<result>', 'result JSON written by spear run --out')
    .description('render a saved run: text summary, JSON summary, or HdrHistogram .hgrm files; compare with a baseline')
    .addHelpText('after', examples)
    .addOption(new Option('-f, --format <format>', 'output format').choices(reportFormats).default('text'))
    .option('-o, --out <path>', 'write here instead of stdout (hgrm: a path prefix, one PREFIX.<histogram>.hgrm per histogram)')
    .option('--compare <baseline>', 'show changes against a baseline result: every percentile, rps and errors, regressions marked')
    .option('--fail-if <condition>', 'with --compare: exit 99 when a change holds, e.g. "p99 > +10%" or "rps < -5%" (repeatable)', collect, [] as string[])
    .action(async (file: string, flags: { format: ReportFormat; out?: string; compare?: string; failIf: string[] }) => {
      process.exitCode = await report(file, { format: flags.format, out: flags.out, compare: flags.compare, failIf: flags.failIf });
    });
}
