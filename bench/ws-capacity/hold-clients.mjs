#!/usr/bin/env node
// bench/ws-capacity/hold-clients.mjs: the peers spear is compared with, holding
// idle Socket.IO connections in one process.
//
//   --kind ws   a bare `ws` client per connection: new WebSocket(
//               ".../socket.io/?EIO=4&transport=websocket", {perMessageDeflate: false}),
//               sends 40 after the Engine.IO open packet, answers each ping 2 with 3;
//               connected = the server's 40{"sid"} arrived
//   --kind sio  socket.io-client v4 (loaded from --sio-dir): io(url, {transports:
//               ["websocket"], forceNew: true, reconnection: false,
//               perMessageDeflate: false}); connected = its "connect" event
//
// Connections are opened at --rate per second, in a batch every 5 ms (as spear's
// ramp does). For each count of --stages (e.g. "1000,10000") it opens up to that
// many, waits until each has connected or failed, prints one JSON line
//   {"stage":N,"connected":C,"failed":F,"t0":EPOCH_MS,"t1":EPOCH_MS,"errors":{CODE:n},"total":T}
// (C and F count this stage's new connections, T all held ones; t0 = first
// attempt of the stage, t1 = its last connect), then waits for a line on
// stdin before the next stage. After the last stage it holds until killed or
// until stdin closes.
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { parseArgs } from 'node:util';
import WebSocket from 'ws';

const { values } = parseArgs({
  options: {
    kind: { type: 'string', default: 'ws' },
    url: { type: 'string' },
    rate: { type: 'string', default: '100000' },
    stages: { type: 'string', default: '1000' },
    'sio-dir': { type: 'string' },
    'connect-timeout': { type: 'string', default: '20000' },
  },
});
if (values.url === undefined) throw new Error('--url http://HOST:PORT is required');
const origin = values.url.replace(/\/+$/, '');
const rate = Number(values.rate);
const stages = values.stages.split(',').map(Number);
const connectTimeoutMs = Number(values['connect-timeout']);
const tickMs = 5;
const held = [];

let io;
if (values.kind === 'sio') {
  if (values['sio-dir'] === undefined) throw new Error('--sio-dir (where socket.io-client@4 is installed) is required with --kind sio');
  io = createRequire(join(values['sio-dir'], 'node_modules', 'x.js'))('socket.io-client').io;
} else if (values.kind !== 'ws') {
  throw new Error(`unknown --kind ${values.kind}`);
}

/** Opens one connection; calls done(error) once, with undefined when connected. */
function openWs(done) {
  const ws = new WebSocket(`${origin.replace(/^http/, 'ws')}/socket.io/?EIO=4&transport=websocket`, { perMessageDeflate: false, handshakeTimeout: connectTimeoutMs });
  let settled = false;
  const settle = (error) => {
    if (settled) return;
    settled = true;
    done(error);
  };
  ws.on('message', (data) => {
    const text = data.toString();
    if (text === '2') ws.send('3');
    else if (text.startsWith('0')) ws.send('40');
    else if (text.startsWith('40')) settle(undefined);
    else if (text.startsWith('44')) settle(new Error('connect_error'));
  });
  ws.on('error', (error) => settle(error));
  ws.on('close', () => settle(new Error('closed before connect')));
  held.push(ws);
}

function openSio(done) {
  const socket = io(origin, { transports: ['websocket'], forceNew: true, reconnection: false, perMessageDeflate: false, timeout: connectTimeoutMs });
  let settled = false;
  const settle = (error) => {
    if (settled) return;
    settled = true;
    done(error);
  };
  socket.on('connect', () => settle(undefined));
  socket.on('connect_error', (error) => settle(error));
  socket.on('disconnect', (reason) => settle(new Error(reason)));
  held.push(socket);
}

const open = values.kind === 'sio' ? openSio : openWs;

/** Opens connections up to `count` at `rate`; resolves with the stage's report once all settled. */
function runStage(count) {
  return new Promise((resolve) => {
    const start = held.length;
    const report = { stage: count, connected: 0, failed: 0, t0: Date.now(), t1: 0, errors: {} };
    let started = start;
    let settled = 0;
    const firstAt = performance.now();
    const done = (error) => {
      if (error === undefined) {
        report.connected += 1;
        report.t1 = Date.now();
      } else {
        report.failed += 1;
        const code = error.code ?? error.message ?? String(error);
        report.errors[code] = (report.errors[code] ?? 0) + 1;
      }
      settled += 1;
      if (settled === count - start) resolve(report);
    };
    if (count <= start) {
      resolve(report);
      return;
    }
    const tick = () => {
      const due = Math.min(count, start + Math.floor(((performance.now() - firstAt) / 1000) * rate) + 1);
      while (started < due) {
        started += 1;
        open(done);
      }
      if (started < count) setTimeout(tick, tickMs);
    };
    tick();
  });
}

// Lines may arrive while a stage is still connecting: queue them.
const lines = createInterface({ input: process.stdin });
const queued = [];
let waiting;
let stdinClosed = false;
lines.on('line', (line) => (waiting === undefined ? queued.push(line) : waiting(line)));
lines.on('close', () => {
  stdinClosed = true;
  waiting?.(undefined);
  if (finished) process.exit(0);
});
const nextLine = () => new Promise((resolve) => {
  if (queued.length > 0 || stdinClosed) {
    resolve(queued.shift());
    return;
  }
  waiting = (line) => {
    waiting = undefined;
    resolve(line);
  };
});
let finished = false;
let total = 0;
for (const signal of ['SIGINT', 'SIGTERM']) process.on(signal, () => process.exit(0));
for (const [index, count] of stages.entries()) {
  const report = await runStage(count);
  total += report.connected;
  process.stdout.write(`${JSON.stringify({ ...report, total })}\n`);
  if (index < stages.length - 1) await nextLine();
}
finished = true;
if (stdinClosed) process.exit(0);
