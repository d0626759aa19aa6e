#!/usr/bin/env node
// `npm run demo`: starts the local HTTP target on a free port and runs a short
// real load test against it (the closed-model example, 100 connections for 5 s),
// then stops the target. Extra arguments go to `spear run`.
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const here = (path) => fileURLToPath(new URL(path, import.meta.url));
const target = spawn(process.execPath, [here('./targets/http-target.js'), '0'], { stdio: ['ignore', 'pipe', 'inherit'] });
const url = await new Promise((resolve, reject) => {
  target.stdout.once('data', (chunk) => resolve(/http:\/\/\S+/.exec(chunk.toString())?.[0]));
  target.once('exit', () => reject(new Error('the target did not start')));
});
const args = ['run', here('./http-closed.yaml'), '--target', url, '--connections', '100', '--duration', '5s', ...process.argv.slice(2)];
process.stderr.write(`demo: spear ${args.join(' ')}\n`);
const spear = spawn(process.execPath, [here('../bin/spear.js'), ...args], { stdio: 'inherit' });
spear.on('exit', (code) => {
  target.kill('SIGTERM');
  process.exitCode = code ?? 1;
});
