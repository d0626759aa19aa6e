import { readFile } from 'node:fs/promises';
import { parse } from 'csv-parse/sync';
import { ScenarioError } from '../errors.js';
import type { Feeder } from './flow.js';

/**
 * Reads a feeder CSV: a header row naming the columns, then one row per
 * user (reused round-robin when there are fewer rows than users). Errors
 * name the file and the fix, at the `feeder` key.
 */
export async function readFeeder(path: string, given: string, scenarioFile: string): Promise<Feeder> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code ?? 'unknown error';
    throw new ScenarioError('feeder', `cannot read ${given} (${code === 'ENOENT' ? 'no such file; paths are relative to the scenario file' : code})`, scenarioFile);
  }
  let records: string[][];
  try {
    records = parse(text, { skip_empty_lines: true, trim: true, relax_column_count: false }) as string[][];
  } catch (error) {
    throw new ScenarioError('feeder', `${given} is not valid CSV: ${(error as Error).message}`, scenarioFile);
  }
  const [columns, ...rows] = records;
  if (columns === undefined || rows.length === 0) throw new ScenarioError('feeder', `${given} needs a header row and at least one data row`, scenarioFile);
  return { file: given, columns, rows };
}
