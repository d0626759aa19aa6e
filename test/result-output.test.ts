import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { lstatSync } from 'node:fs';
import { lstat, mkdir, readdir, readlink, rm, symlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { readResult } from '../src/report/result-file.js';
import { startHttpServer, type CountingServer } from './servers/http-server.js';
import { runSpear, tempDir } from './support/spear.js';

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
    const match = /^spear: cannot write the result to (.+) \(ENOSPC: no space left on the device\); it was saved to (\S+) instead\n$/.exec(outcome.stderr);
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
