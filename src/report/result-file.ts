import { rename, writeFile } from 'node:fs/promises';
import { SpearError, ExitCode } from '../errors.js';
import type { RunResult } from './result.js';

/** Writes the result as JSON, atomically (temp file + rename), so a crash never leaves half a file. */
export async function writeResult(file: string, result: RunResult): Promise<void> {
  const temporary = `${file}.${process.pid}.tmp`;
  try {
    await writeFile(temporary, `${JSON.stringify(result, null, 2)}\n`);
    await rename(temporary, file);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code ?? 'unknown error';
    throw new SpearError('E_RESULT_WRITE', `cannot write the result to ${file} (${code}): check the directory exists and is writable`, ExitCode.internal);
  }
}
