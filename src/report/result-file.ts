import { randomBytes } from 'node:crypto';
import { constants, fstatSync, type Stats } from 'node:fs';
import { access, lstat, open, readFile, readlink, rename, rm, stat, writeFile } from 'node:fs/promises';
import { homedir, tmpdir } from 'node:os';
import { basename, dirname, join, resolve } from 'node:path';
import { OutputPathError, ResultReadError, ResultWriteError, errnoOf, messageOf } from '../errors.js';
import { decodeHistogram } from '../metrics/histogram.js';
import { resultVersion, type RunResult } from './result.js';

/**
 * Where `spear run --out` sends the result:
 * - `stdout`: `-o -`, or a path that is this process's standard output
 *   (`/dev/stdout`, `/proc/self/fd/1`, the file stdout is redirected to);
 * - `replace`: a regular file, or a path that does not exist yet: written to a
 *   temporary file beside it, flushed, then renamed over it, so a reader
 *   never sees half a file;
 * - `through`: a symlink (the link stays, its target gets the JSON), a
 *   character device or a pipe, or a regular file in a directory spear may not
 *   create files in: opened and written in place, never replaced.
 */
export type OutputTarget =
  | { readonly kind: 'stdout' }
  | { readonly kind: 'replace' | 'through'; readonly path: string };

/**
 * Decides where `file` can take a result, before any load: its directory
 * must exist and be writable, and the path must not be a directory. Throws
 * OutputPathError (a usage error) naming the problem. Does not open or
 * create anything (a pipe is not opened: that would wait for its reader).
 */
export async function checkOutput(file: string, flag = '--out'): Promise<OutputTarget> {
  if (file === '-') return { kind: 'stdout' };
  const fail = (problem: string): never => {
    throw new OutputPathError(flag, file, problem);
  };
  if (file === '') return fail('give a file name, or - for standard output');
  if (file.endsWith('/')) return fail(`names a directory: give a file name, such as ${join(file, 'result.json')}`);
  const link = await statOrMissing(() => lstat(file), fail);
  if (link === undefined) {
    await checkDirectory(dirname(file), fail);
    return { kind: 'replace', path: file };
  }
  if (!link.isSymbolicLink()) return targetOf(file, link, false, fail);
  const followed = await statOrMissing(() => stat(file), fail);
  if (followed !== undefined) return targetOf(file, followed, true, fail);
  // A dangling link: writing through it creates its target, in the target's directory.
  const pointsTo = await readlink(file).catch((error: unknown) => fail(problemOf(error)));
  await checkDirectory(dirname(resolve(dirname(file), pointsTo)), fail);
  return { kind: 'through', path: file };
}

/**
 * Writes the result as JSON where `file` says (see OutputTarget; `-` is
 * standard output). The path is checked again, since the run may have taken
 * hours. On any failure the result is kept elsewhere (the OS temp directory,
 * else the home directory) and a ResultWriteError names that file; no
 * temporary file is left behind. May block on a pipe until its reader reads.
 */
export async function writeResult(file: string, result: RunResult): Promise<void> {
  const text = `${JSON.stringify(result, null, 2)}\n`;
  try {
    await writeTo(await checkOutput(file), text);
  } catch (error) {
    throw await keepElsewhere(file === '-' ? 'standard output' : file, text, error);
  }
}

async function writeTo(target: OutputTarget, text: string): Promise<void> {
  if (target.kind === 'stdout') return writeStdout(text);
  if (target.kind === 'through') return writeFile(target.path, text);
  const temporary = join(dirname(target.path), `.${basename(target.path)}.${process.pid}-${randomBytes(4).toString('hex')}.tmp`);
  await writeNewFile(temporary, text);
  try {
    await rename(temporary, target.path);
  } catch (error) {
    await rm(temporary, { force: true });
    throw error;
  }
}

/** Writes a file that must not exist yet and flushes it to disk; a failure removes what it created. */
async function writeNewFile(path: string, text: string): Promise<void> {
  const handle = await open(path, 'wx');
  let closed = false;
  try {
    await handle.writeFile(text);
    await handle.sync();
    closed = true;
    await handle.close();
  } catch (error) {
    if (!closed) await handle.close().catch(() => undefined);
    await rm(path, { force: true });
    throw error;
  }
}

function writeStdout(text: string): Promise<void> {
  return new Promise((resolveWrite, reject) => {
    // An 'error' event without a listener (EPIPE: the reader went away) would crash the process.
    process.stdout.on('error', reject);
    process.stdout.write(text, (error) => {
      if (error === null || error === undefined) {
        process.stdout.off('error', reject);
        resolveWrite();
      } else {
        reject(error);
      }
    });
  });
}

/** Saves the result under a fresh name in the first directory that takes it; the error to throw names it. */
async function keepElsewhere(where: string, text: string, error: unknown): Promise<ResultWriteError> {
  const cause = error instanceof OutputPathError ? error.problem : problemOf(error);
  const name = `spear-result-${new Date().toISOString().replace(/[:.]/g, '-')}-${process.pid}.json`;
  const failures: string[] = [];
  for (const directory of new Set([tmpdir(), homedir()])) {
    const path = join(directory, name);
    try {
      await writeNewFile(path, text);
      return new ResultWriteError(`cannot write the result to ${where} (${cause}); it was saved to ${path} instead`, path);
    } catch (fallbackError) {
      failures.push(`${directory}: ${errnoOf(fallbackError) ?? messageOf(fallbackError)}`);
    }
  }
  return new ResultWriteError(`cannot write the result to ${where} (${cause}), nor elsewhere (${failures.join('; ')}): the result is lost`, undefined);
}

async function targetOf(file: string, stats: Stats, viaLink: boolean, fail: (problem: string) => never): Promise<OutputTarget> {
  if (isStandardOutput(stats)) return { kind: 'stdout' };
  if (stats.isDirectory()) return fail(`is a directory: give a file name, such as ${join(file, 'result.json')}`);
  if (!stats.isFile() && !stats.isCharacterDevice() && !stats.isFIFO()) return fail('is not a regular file, a character device or a pipe');
  await access(file, constants.W_OK).catch((error: unknown) => fail(`cannot write it (${problemOf(error)})`));
  if (!stats.isFile() || viaLink) return { kind: 'through', path: file };
  const canCreate = await access(dirname(file), constants.W_OK | constants.X_OK).then(() => true, () => false);
  return { kind: canCreate ? 'replace' : 'through', path: file };
}

async function checkDirectory(directory: string, fail: (problem: string) => never): Promise<void> {
  const stats = await statOrMissing(() => stat(directory), fail);
  if (stats === undefined) fail(`the directory ${directory} does not exist: create it first, or choose another path`);
  if (!stats.isDirectory()) fail(`${directory} is not a directory`);
  await access(directory, constants.W_OK | constants.X_OK).catch((error: unknown) => fail(`cannot create files in ${directory} (${problemOf(error)})`));
}

/** The stats, or undefined when the path does not exist; any other failure is the path's problem. */
async function statOrMissing(read: () => Promise<Stats>, fail: (problem: string) => never): Promise<Stats | undefined> {
  try {
    return await read();
  } catch (error) {
    if (errnoOf(error) === 'ENOENT') return undefined;
    return fail(problemOf(error));
  }
}

/** Whether `stats` is the very file standard output writes to (same device and inode). */
function isStandardOutput(stats: Stats): boolean {
  try {
    const out = fstatSync(1);
    return out.dev === stats.dev && out.ino === stats.ino;
  } catch {
    return false;
  }
}

const errnoText: Record<string, string> = {
  ENOSPC: 'ENOSPC: no space left on the device',
  EDQUOT: 'EDQUOT: disk quota exceeded',
  EACCES: 'EACCES: permission denied',
  EPERM: 'EPERM: not permitted',
  EROFS: 'EROFS: read-only file system',
  ENOTDIR: 'ENOTDIR: a part of the path is not a directory',
  ELOOP: 'ELOOP: too many symbolic links',
  EPIPE: 'EPIPE: the reader went away',
  EISDIR: 'EISDIR: is a directory',
  EIO: 'EIO: input/output error',
};

function problemOf(error: unknown): string {
  const code = errnoOf(error);
  if (code === undefined) return messageOf(error);
  return errnoText[code] ?? code;
}

/**
 * Reads a result file written by `writeResult`. Checks the format marker,
 * the major version and the shape every renderer relies on (the top-level
 * sections, decodable run histograms); deeper fields are trusted as spear's
 * own output. Throws ResultReadError, one line naming the file.
 */
export async function readResult(file: string): Promise<RunResult> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (error) {
    throw new ResultReadError('E_RESULT_READ', `cannot read the result ${file} (${problemOf(error)})`);
  }
  let raw: unknown;
  try {
    raw = JSON.parse(text) as unknown;
  } catch {
    // V8's own words (and positions) change between Node versions: keep the line stable.
    throw new ResultReadError('E_RESULT_READ', `cannot read the result ${file}: not valid JSON (cut short, or not a result file)`);
  }
  if (!isRecord(raw) || raw.format !== 'spear-result') {
    throw new ResultReadError('E_RESULT_READ', `${file} is not a spear result file (no "format": "spear-result")`);
  }
  if (raw.version !== resultVersion) {
    throw new ResultReadError('E_RESULT_VERSION', `${file} has result format version ${'version' in raw ? String(raw.version) : 'none'}; this spear reads version ${resultVersion}`);
  }
  const problem = shapeProblem(raw);
  if (problem !== undefined) throw new ResultReadError('E_RESULT_READ', `${file} is damaged or incomplete: ${problem}`);
  return raw as unknown as RunResult;
}

/** The first missing or malformed section a renderer would trip on, or undefined. */
function shapeProblem(raw: Record<string, unknown>): string | undefined {
  for (const key of ['scenario', 'summary', 'histograms']) {
    if (!isRecord(raw[key])) return `no "${key}" object`;
  }
  for (const key of ['thresholds', 'timeline', 'agents']) {
    if (!Array.isArray(raw[key])) return `no "${key}" list`;
  }
  const summary = raw.summary as Record<string, unknown>;
  for (const key of ['latencyMs', 'serviceTimeMs', 'errors']) {
    if (!isRecord(summary[key])) return `no "summary.${key}" object`;
  }
  if (raw.requestHistograms !== undefined && !isRecord(raw.requestHistograms)) return 'no "requestHistograms" object';
  for (const [name, encoded] of Object.entries(raw.requestHistograms ?? {})) {
    if (typeof encoded !== 'string') return `"requestHistograms[${JSON.stringify(name)}]" is not a string`;
  }
  for (const [name, encoded] of Object.entries(raw.histograms as Record<string, unknown>)) {
    if (typeof encoded !== 'string') return `"histograms.${name}" is not a string`;
    try {
      decodeHistogram(encoded);
    } catch (error) {
      return `"histograms.${name}" is not an encoded HdrHistogram (${messageOf(error)})`;
    }
  }
  return undefined;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
