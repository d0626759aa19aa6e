import { randomBytes } from 'node:crypto';
import { constants, fstatSync, type Stats } from 'node:fs';
import { access, lstat, open, readlink, rename, rm, stat } from 'node:fs/promises';
import { homedir, tmpdir } from 'node:os';
import { basename, dirname, join, resolve } from 'node:path';
import { OutputPathError, ResultWriteError, errnoOf, messageOf } from '../errors.js';
import { fileSink, streamSink, writeChunks } from './chunk-writer.js';
import { problemOf, withFix } from './file-problem.js';
import type { RunResult } from './result.js';
import { jsonChunks } from './result-json.js';

// Reading lives beside writing; many callers import it from here.
export { readResult } from './result-reader.js';

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
 * standard output), streamed piece by piece (result-json.ts): no string
 * holds the whole file, however long the run. The path is checked again,
 * since the run may have taken hours. On any failure the result is kept
 * elsewhere (the OS temp directory, else the home directory) and a
 * ResultWriteError names that file; no temporary file is left behind. May
 * block on a pipe until its reader reads.
 */
export async function writeResult(file: string, result: RunResult): Promise<void> {
  const pieces = (): Iterable<string> => jsonChunks(result);
  try {
    await writeTo(await checkOutput(file), pieces);
  } catch (error) {
    throw await keepElsewhere(file === '-' ? 'standard output' : file, pieces, error);
  }
}

async function writeTo(target: OutputTarget, pieces: () => Iterable<string>): Promise<void> {
  if (target.kind === 'stdout') return writeChunks(pieces(), streamSink(process.stdout));
  if (target.kind === 'through') return writeThrough(target.path, pieces);
  const temporary = join(dirname(target.path), `.${basename(target.path)}.${process.pid}-${randomBytes(4).toString('hex')}.tmp`);
  await writeNewFile(temporary, pieces);
  try {
    await rename(temporary, target.path);
  } catch (error) {
    await rm(temporary, { force: true });
    throw error;
  }
  await syncDirectory(dirname(target.path));
}

/** Writes into an existing file, device or pipe in place (truncating a file): never replaced. */
async function writeThrough(path: string, pieces: () => Iterable<string>): Promise<void> {
  const handle = await open(path, 'w');
  try {
    await writeChunks(pieces(), fileSink(handle));
  } finally {
    await handle.close().catch(() => undefined);
  }
}

/**
 * Writes a file that must not exist yet and flushes it to disk; a failure
 * removes what it created, so only a crash of the process itself (a kill,
 * a power cut) leaves a temporary file, never a half file under the final
 * name.
 */
async function writeNewFile(path: string, pieces: () => Iterable<string>): Promise<void> {
  const handle = await open(path, 'wx');
  let closed = false;
  try {
    await writeChunks(pieces(), fileSink(handle));
    await handle.sync();
    closed = true;
    await handle.close();
  } catch (error) {
    if (!closed) await handle.close().catch(() => undefined);
    await rm(path, { force: true });
    throw error;
  }
}

/** Makes a rename in `directory` durable; best effort (some file systems refuse to sync a directory). */
async function syncDirectory(directory: string): Promise<void> {
  const handle = await open(directory, 'r').catch(() => undefined);
  if (handle === undefined) return;
  await handle.sync().catch(() => undefined);
  await handle.close().catch(() => undefined);
}

/** Saves the result under a fresh name in the first directory that takes it; the error to throw names it. */
async function keepElsewhere(where: string, pieces: () => Iterable<string>, error: unknown): Promise<ResultWriteError> {
  const cause = error instanceof OutputPathError ? error.problem : withFix(error);
  const name = `spear-result-${new Date().toISOString().replace(/[:.]/g, '-')}-${process.pid}.json`;
  const failures: string[] = [];
  for (const directory of new Set([tmpdir(), homedir()])) {
    const path = join(directory, name);
    try {
      await writeNewFile(path, pieces);
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
  await access(file, constants.W_OK).catch((error: unknown) => fail(`cannot write it (${withFix(error)})`));
  if (!stats.isFile() || viaLink) return { kind: 'through', path: file };
  const canCreate = await access(dirname(file), constants.W_OK | constants.X_OK).then(() => true, () => false);
  return { kind: canCreate ? 'replace' : 'through', path: file };
}

async function checkDirectory(directory: string, fail: (problem: string) => never): Promise<void> {
  const stats = await statOrMissing(() => stat(directory), fail);
  if (stats === undefined) fail(`the directory ${directory} does not exist: create it first, or choose another path`);
  if (!stats.isDirectory()) fail(`${directory} is not a directory`);
  await access(directory, constants.W_OK | constants.X_OK).catch((error: unknown) => fail(`cannot create files in ${directory} (${withFix(error)})`));
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
