import assert from 'node:assert/strict';
import { execFileSync, spawn } from 'node:child_process';
import { lstatSync } from 'node:fs';
import { chmod, lstat, mkdir, readdir, readFile, readlink, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { ResultWriteError } from '../src/errors.js';
import { readResult, writeResult } from '../src/report/result-file.js';
import type { RunResult } from '../src/report/result.js';
import { startHttpServer, type CountingServer } from './servers/http-server.js';
import { runSpear, spearBin, tempDir } from './support/spear.js';
import { syntheticResult } from './support/synthetic-result.js';

let server: CountingServer;
let dir: { path: string; cleanup: () => Promise<void> };

before(async () => {
  server = await startHttpServer();
  dir = await tempDir();
});

after(async () => {
  await server.close();
  await dir.cleanup();
});

/** A one-second run on one agent, summary printed, no live progress. */
function shortRun(out: string): Promise<Awaited<ReturnType<typeof runSpear>>> {
  return runSpear(['run', '--target', server.url, '-c', '2', '-d', '1s', '--agents', '1', '--progress', 'quiet', '-o', out]);
}

test('--out into a missing directory, or onto a directory, fails before any load: one line, exit 2', async () => {
  const before = server.received();
  const missing = join(dir.path, 'no-such-dir', 'result.json');
  const outcome = await shortRun(missing);
  assert.equal(outcome.stderr, `spear: --out ${missing}: the directory ${join(dir.path, 'no-such-dir')} does not exist: create it first, or choose another path\n`);
  assert.equal(outcome.code, 2);
  const onDirectory = await shortRun(dir.path);
  assert.equal(onDirectory.stderr, `spear: --out ${dir.path}: is a directory: give a file name, such as ${join(dir.path, 'result.json')}\n`);
  assert.equal(onDirectory.code, 2);
  assert.equal(server.received(), before, 'a request reached the server');
});

test('-o onto a symlink writes through it: the link stays, its target gets the JSON, no temp file is left', async () => {
  const linked = join(dir.path, 'linked');
  await mkdir(linked);
  await writeFile(join(linked, 'target.json'), 'old\n');
  await symlink('target.json', join(linked, 'link.json'));
  const outcome = await shortRun(join(linked, 'link.json'));
  assert.equal(outcome.code, 0, outcome.stderr);
  assert.ok((await lstat(join(linked, 'link.json'))).isSymbolicLink());
  assert.equal(await readlink(join(linked, 'link.json')), 'target.json');
  assert.equal((await readResult(join(linked, 'target.json'))).format, 'spear-result');
  assert.deepEqual((await readdir(linked)).sort(), ['link.json', 'target.json']);
});

test('-o - (and -o /dev/stdout) put parseable JSON on stdout and the summary on stderr; /dev/stdout stays a link', async () => {
  const devStdoutIsLink = lstatSync('/dev/stdout', { throwIfNoEntry: false })?.isSymbolicLink() === true;
  for (const out of devStdoutIsLink ? ['-', '/dev/stdout'] : ['-']) {
    const outcome = await shortRun(out);
    assert.equal(outcome.code, 0, outcome.stderr);
    const parsed = JSON.parse(outcome.stdout) as { format?: unknown; summary?: { requests?: unknown } };
    assert.equal(parsed.format, 'spear-result', out);
    assert.equal(typeof parsed.summary?.requests, 'number');
    assert.match(outcome.stderr, /Requests\/sec: /);
  }
  if (devStdoutIsLink) assert.ok(lstatSync('/dev/stdout').isSymbolicLink(), '/dev/stdout was replaced');
});

test('a full disk: the summary is printed, the result is saved elsewhere and named, exit 6, no temp file left', async (context) => {
  const mount = join(dir.path, 'small');
  await mkdir(mount);
  try {
    execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=64k', 'tmpfs', mount], { stdio: 'ignore' });
  } catch {
    context.skip('cannot mount a 64 KiB tmpfs here (needs root and mount privileges)');
    return;
  }
  try {
    // Fill it: the directory stays writable, so the check before the run passes and the write fails.
    await writeFile(join(mount, 'fill'), Buffer.alloc(128 * 1024)).catch(() => undefined);
    const outcome = await shortRun(join(mount, 'result.json'));
    assert.equal(outcome.code, 6, outcome.stderr);
    assert.match(outcome.stdout, /Requests\/sec: /);
    const match = /^spear: cannot write the result to (.+) \(ENOSPC: no space left on the device: free space there, or choose another path\); it was saved to (\S+) instead\n$/.exec(outcome.stderr);
    assert.ok(match !== null, outcome.stderr);
    assert.equal(match[1], join(mount, 'result.json'));
    try {
      assert.equal((await readResult(match[2]!)).format, 'spear-result');
    } finally {
      await rm(match[2]!, { force: true });
    }
    assert.deepEqual(await readdir(mount), ['fill']);
  } finally {
    execFileSync('umount', [mount]);
  }
});

/** Checks the one-line write error, the printed summary and exit 6, reads the copy spear kept back and removes it. */
async function assertKeptElsewhere(outcome: { code: number; stdout: string; stderr: string }, out: string, problem: string): Promise<void> {
  assert.equal(outcome.code, 6, outcome.stderr);
  assert.match(outcome.stdout, /Requests\/sec: /);
  const lines = outcome.stderr.split('\n').filter((line) => line.startsWith('spear: cannot write'));
  assert.equal(lines.length, 1, outcome.stderr);
  const prefix = `spear: cannot write the result to ${out} (${problem}); it was saved to `;
  assert.ok(lines[0]!.startsWith(prefix), lines[0]);
  const saved = /^(\/\S+\.json) instead$/.exec(lines[0]!.slice(prefix.length))?.[1];
  assert.ok(saved !== undefined, lines[0]);
  try {
    assert.equal((await readResult(saved)).format, 'spear-result');
  } finally {
    await rm(saved, { force: true });
  }
}

test('a write that fails after the load (/dev/full): summary printed, one line naming the path, the cause and the fix, exit 6, the result kept elsewhere', async (context) => {
  if (lstatSync('/dev/full', { throwIfNoEntry: false })?.isCharacterDevice() !== true) {
    context.skip('no /dev/full here');
    return;
  }
  await assertKeptElsewhere(await shortRun('/dev/full'), '/dev/full', 'ENOSPC: no space left on the device: free space there, or choose another path');
});

test('a directory made unwritable during the run (EACCES): the same one line with its fix, exit 6, no temporary file left', async (context) => {
  if (process.getuid?.() !== 0) {
    context.skip('needs root, to run spear as an unprivileged user (root writes anywhere)');
    return;
  }
  const locked = join(dir.path, 'locked');
  await mkdir(locked);
  await chmod(dir.path, 0o755);
  await chmod(locked, 0o777);
  const out = join(locked, 'run.json');
  const child = spawn(process.execPath, [spearBin, 'run', '--target', server.url, '-c', '2', '-d', '3s', '--agents', '1', '--progress', 'lines', '-o', out], {
    uid: 65534, gid: 65534, env: { ...process.env, HOME: '/nonexistent', TMPDIR: tmpdir() },
  });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (chunk: Buffer) => {
    stdout += chunk.toString();
  });
  const started = new Promise<void>((resolveStarted) => {
    child.stderr.on('data', (chunk: Buffer) => {
      stderr += chunk.toString();
      if (/started, running for/.test(stderr)) resolveStarted();
    });
  });
  const exited = new Promise<number>((resolveExit) => child.on('exit', (code) => resolveExit(code ?? -1)));
  // The path was checked before the load; it stops being writable while the load runs.
  await Promise.race([started, exited]);
  await chmod(locked, 0o555);
  const code = await exited;
  await assertKeptElsewhere({ code, stdout, stderr }, out, `cannot create files in ${locked} (EACCES: permission denied: make it writable, or choose another path)`);
  assert.deepEqual(await readdir(locked), []);
});

test('a write that fails midway leaves the previous file whole and no temporary file, and says the result is lost only when no place took it', async () => {
  const place = join(dir.path, 'midway');
  await mkdir(place);
  const file = join(place, 'run.json');
  await writeFile(file, 'previous\n');
  const result = syntheticResult(2, 500);
  // More than one write's worth (1 MiB) goes out before the piece that cannot be serialized.
  const broken = { ...result, timeline: [...result.timeline, { index: 500, count: 1n }] } as unknown as RunResult;
  await assert.rejects(writeResult(file, broken), (error: unknown) => {
    assert.ok(error instanceof ResultWriteError);
    assert.match(error.message, new RegExp(`^cannot write the result to ${file} \\(Do not know how to serialize a BigInt\\), nor elsewhere \\(.+\\): the result is lost$`));
    return true;
  });
  assert.equal(await readFile(file, 'utf8'), 'previous\n');
  assert.deepEqual(await readdir(place), ['run.json']);
  assert.deepEqual((await readdir(tmpdir())).filter((name) => name.startsWith('spear-result-') && name.endsWith(`-${process.pid}.json`)), []);
});

test('killed while writing, spear leaves the previous file or the whole new one under the final name, never half of one', async () => {
  const place = join(dir.path, 'killed');
  await mkdir(place);
  const file = join(place, 'run.json');
  await writeFile(file, 'previous\n');
  const module = (path: string): string => JSON.stringify(new URL(path, import.meta.url).href);
  const script = `import { writeResult } from ${module('../src/report/result-file.js')};
import { syntheticResult } from ${module('./support/synthetic-result.js')};
const result = syntheticResult(2, 4000);
process.stdout.write('built\\n');
await writeResult(${JSON.stringify(file)}, result);`;
  const child = spawn(process.execPath, ['--input-type=module', '-e', script], { stdio: ['ignore', 'pipe', 'inherit'] });
  const exited = new Promise<void>((resolveExit) => child.on('exit', () => resolveExit()));
  await new Promise<void>((resolveBuilt) => child.stdout.on('data', () => resolveBuilt()));
  let temporary: string | undefined;
  while (temporary === undefined && child.exitCode === null) {
    temporary = (await readdir(place)).find((name) => name.endsWith('.tmp'));
  }
  child.kill('SIGKILL');
  await exited;
  const text = await readFile(file, 'utf8');
  if (text !== 'previous\n') assert.equal((await readResult(file)).timeline.length, 4000);
  // Only the temporary file may stay: it is named after the target, hidden, and safe to delete.
  for (const name of await readdir(place)) assert.ok(name === 'run.json' || /^\.run\.json\.\d+-[0-9a-f]{8}\.tmp$/.test(name), name);
});
