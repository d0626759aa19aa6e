import { readFile, stat } from 'node:fs/promises';
import { parse } from 'csv-parse/sync';
import { ScenarioError } from '../errors.js';
import type { Feeder } from './flow.js';

/** Largest feeder file: a plan carries an agent's rows and must stay well under the 64 MiB wire cap. */
export const maxFeederBytes = 32 * 1024 * 1024;

/**
 * Reads a feeder CSV: a header row naming the columns, then one row per
 * user (reused round-robin when there are fewer rows than users). Errors
 * name the file and the fix, at the `feeder` key.
 */
export async function readFeeder(path: string, given: string, scenarioFile: string): Promise<Feeder> {
  let text: string;
  try {
    const { size } = await stat(path);
    if (size > maxFeederBytes) {
      throw new ScenarioError('feeder', `${given} is ${(size / 1048576).toFixed(0)} MiB; feeders are limited to ${maxFeederBytes / 1048576} MiB (each agent gets its rows in its plan): keep one row per user, or fewer columns`, scenarioFile);
    }
    text = await readFile(path, 'utf8');
  } catch (error) {
    if (error instanceof ScenarioError) throw error;
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
