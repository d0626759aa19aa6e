import { readFile, rename, writeFile } from 'node:fs/promises';
import { ExitCode, SpearError, messageOf } from '../errors.js';
import { resultVersion, type RunResult } from './result.js';

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

/**
 * Reads a result file written by `writeResult`. Checks the format marker and
 * major version; the body is trusted as spear's own output.
 */
export async function readResult(file: string): Promise<RunResult> {
  let raw: unknown;
  try {
    raw = JSON.parse(await readFile(file, 'utf8')) as unknown;
  } catch (error) {
    throw new SpearError('E_RESULT_READ', `cannot read the result ${file} (${messageOf(error)})`, ExitCode.usage);
  }
  if (typeof raw !== 'object' || raw === null || !('format' in raw) || raw.format !== 'spear-result') {
    throw new SpearError('E_RESULT_READ', `${file} is not a spear result file (no "format": "spear-result")`, ExitCode.usage);
  }
  if (!('version' in raw) || raw.version !== resultVersion) {
    throw new SpearError('E_RESULT_VERSION', `${file} has result format version ${'version' in raw ? String(raw.version) : 'none'}; this spear reads version ${resultVersion}`, ExitCode.usage);
  }
  return raw as RunResult;
}
