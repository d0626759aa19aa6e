import { writeFile } from 'node:fs/promises';
import { basename } from 'node:path';
import { ExitCode, ReportWriteError, ResultReadError, SpearError, UsageError, errnoOf, messageOf, type ExitCodeValue } from '../errors.js';
import { compareResults, failedConditions, parseFailCondition, renderComparison, runMismatches, type FailCondition } from './compare.js';
import { renderHgrm } from './hgrm.js';
import { renderHtml } from './html.js';
import { readResult } from './result-file.js';
import type { RunResult } from './result.js';
import { renderSummaryJson } from './summary-json.js';
import { renderTextSummary } from './text-summary.js';

export const reportFormats = ['text', 'json', 'html', 'hgrm'] as const;
export type ReportFormat = (typeof reportFormats)[number];

/** `-o -`: standard output, as `spear run -o -` takes it. */
const stdoutPath = '-';

export interface ReportOptions {
  readonly format: ReportFormat;
  /** A file (text, json, html) or a path prefix (hgrm: PREFIX.<histogram>.hgrm); stdout (html: RESULT.html) when absent; "-" is stdout (not for hgrm). */
  readonly out: string | undefined;
  readonly compare: string | undefined;
  readonly failIf: readonly string[];
}

/**
 * `spear report RESULT`: renders a saved run, optionally against a
 * baseline. Returns the exit code: thresholds (99) when a --fail-if
 * condition holds.
 */
export async function report(file: string, options: ReportOptions): Promise<ExitCodeValue> {
  const conditions = options.failIf.map((source) => {
    const parsed = parseFailCondition(source);
    if (typeof parsed === 'string') throw new UsageError(parsed);
    return parsed;
  });
  if (conditions.length > 0 && options.compare === undefined) throw new UsageError('--fail-if compares against a baseline: add --compare BASELINE.json');
  if (options.format === 'hgrm' && options.out === stdoutPath) throw new UsageError('--format hgrm writes one file per histogram, not to stdout: give -o a path prefix (PREFIX.<histogram>.hgrm)');
  const result = await readResult(file);
  const baseline = options.compare === undefined ? undefined : await readResult(options.compare);
  let metrics: ComparedMetrics | undefined;
  try {
    metrics = baseline === undefined ? undefined : compareResults(baseline, result);
    // The text comparison prints these in its header; the other formats get them on stderr.
    if (baseline !== undefined && options.format !== 'text') for (const line of runMismatches(baseline, result)) process.stderr.write(`spear: ${line}\n`);
    await render(file, result, baseline === undefined || metrics === undefined ? undefined : { baseline, metrics }, options);
  } catch (error) {
    if (error instanceof SpearError) throw error;
    // readResult checks the shape renderers rely on; a file damaged deeper still ends in one line.
    const files = options.compare === undefined ? file : `${file} or ${options.compare}`;
    throw new ResultReadError('E_RESULT_READ', `cannot render ${files}: damaged, or not written by spear (${messageOf(error)})`);
  }
  return gate(metrics ?? [], conditions);
}

type ComparedMetrics = ReturnType<typeof compareResults>;

async function render(file: string, result: RunResult, comparison: { baseline: RunResult; metrics: ComparedMetrics } | undefined, options: ReportOptions): Promise<void> {
  const { baseline, metrics } = comparison ?? {};
  if (options.format === 'hgrm') {
    const prefix = options.out ?? file.replace(/\.json$/, '');
    const written: string[] = [];
    for (const [name, text] of renderHgrm(result)) {
      const path = `${prefix}.${name}.hgrm`;
      await writeOrFail(path, text);
      written.push(path);
    }
    process.stdout.write(written.length === 0 ? 'no histogram holds values: nothing written\n' : `${written.join('\n')}\n`);
  } else if (options.format === 'html') {
    const html = renderHtml(result, metrics === undefined ? undefined : { baseline: basename(options.compare ?? ''), metrics });
    if (options.out === stdoutPath) {
      process.stdout.write(html);
      return;
    }
    const path = options.out ?? file.replace(/\.json$/, '') + '.html';
    await writeOrFail(path, html);
    process.stdout.write(`${path}\n`);
  } else {
    let text = options.format === 'text' ? renderTextSummary(result) : renderSummaryJson(result);
    if (baseline !== undefined && metrics !== undefined) {
      text = options.format === 'text'
        ? `${text}${renderComparison(basename(options.compare ?? ''), baseline, basename(file), result, metrics)}`
        : `${JSON.stringify({ ...(JSON.parse(text) as Record<string, unknown>), comparison: { baseline: options.compare, metrics } }, null, 2)}\n`;
    }
    if (options.out === undefined || options.out === stdoutPath) process.stdout.write(text);
    else await writeOrFail(options.out, text);
  }
}

function gate(metrics: Parameters<typeof failedConditions>[0], conditions: readonly FailCondition[]): ExitCodeValue {
  if (conditions.length === 0) return ExitCode.ok;
  const { failed, unknown } = failedConditions(metrics, conditions);
  if (unknown.length > 0) throw new UsageError(unknown[0]!);
  for (const condition of failed) process.stderr.write(`spear: regression: ${condition.source}\n`);
  return failed.length > 0 ? ExitCode.thresholds : ExitCode.ok;
}

/** `spear run --report html`: the report beside the result file (RESULT.html). */
export async function writeHtmlBeside(resultFile: string, result: Parameters<typeof renderHtml>[0]): Promise<string> {
  const path = `${resultFile.replace(/\.json$/, '')}.html`;
  await writeOrFail(path, renderHtml(result));
  return path;
}

async function writeOrFail(path: string, text: string): Promise<void> {
  try {
    await writeFile(path, text);
  } catch (error) {
    throw new ReportWriteError(`cannot write ${path} (${errnoOf(error) ?? messageOf(error)}): check the directory exists, is writable and has space`);
  }
}
