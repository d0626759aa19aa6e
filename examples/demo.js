#!/usr/bin/env node
// `npm run demo`: starts a local target on a free port, runs a short real load
// test against it, then stops the target. Extra arguments go to `spear run`.
//   npm run demo                    HTTP: the closed-model example, 100 connections for 5 s
//   npm run demo -- socketio        case B: 1,000 Socket.IO users in groups of 100, broadcasting, for 10 s
//   npm run demo -- socketio-v2     the same against a Socket.IO v2 (Engine.IO 3) server
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const here = (path) => fileURLToPath(new URL(path, import.meta.url));
const kinds = {
  http: {
    target: ['./targets/http-target.js', '--port', '0'],
    args: (url) => [here('./http-closed.yaml'), '--target', url, '--connections', '100', '--duration', '5s'],
  },
  socketio: {
    target: ['./targets/socketio-target.js', '--port', '0'],
    args: (url) => [here('./socketio-groups.yaml'), '--target', url, '--users', '1000', '--duration', '10s'],
  },
  'socketio-v2': {
    target: ['./targets/socketio-target.js', '--port', '0', '--v2'],
    args: (url) => [here('./socketio-groups-v2.yaml'), '--target', url, '--users', '1000', '--duration', '10s'],
  },
};
const first = process.argv[2];
const kind = first !== undefined && first in kinds ? first : 'http';
const extra = process.argv.slice(first === kind ? 3 : 2);
const { target: [script, ...targetArgs], args } = kinds[kind];
const target = spawn(process.execPath, [here(script), ...targetArgs], { stdio: ['ignore', 'pipe', 'inherit'] });
const url = await new Promise((resolve, reject) => {
  target.stdout.once('data', (chunk) => resolve(/http:\/\/\S+/.exec(chunk.toString())?.[0]));
  target.once('exit', () => reject(new Error('the target did not start')));
});
const spearArgs = ['run', ...args(url), ...extra];
process.stderr.write(`demo: spear ${spearArgs.join(' ')}\n`);
const spear = spawn(process.execPath, [here('../bin/spear.js'), ...spearArgs], { stdio: 'inherit' });
spear.on('exit', (code) => {
  target.kill('SIGTERM');
  process.exitCode = code ?? 1;
});
