import assert from 'node:assert/strict';
import { once } from 'node:events';
import { test } from 'node:test';
import { WebSocket } from 'ws';
import { startSocketIoServer, type SocketIoServerOptions } from './servers/socketio-server.js';
import { startWsServer } from './servers/ws-server.js';

/** A Socket.IO client speaking the raw protocol over `ws`, as spear does. */
interface RawClient {
  /** The next Socket.IO frame; Engine.IO pings are answered and pongs skipped. */
  next(): Promise<string>;
  emit(event: string, payload: unknown, ackId?: number): void;
  /** Resolves with the WebSocket close code. */
  readonly closed: Promise<number>;
  close(): void;
}

function open(url: string): { ws: WebSocket; next: () => Promise<string>; closed: Promise<number> } {
  const ws = new WebSocket(url, { perMessageDeflate: false });
  const queue: string[] = [];
  const waiters: ((frame: string) => void)[] = [];
  ws.on('error', () => undefined);
  ws.on('message', (data) => {
    const frame = Buffer.isBuffer(data) ? data.toString() : '';
    if (frame === '2') ws.send('3');
    if (frame === '2' || frame === '3') return;
    const waiter = waiters.shift();
    if (waiter === undefined) queue.push(frame);
    else waiter(frame);
  });
  const closed = new Promise<number>((resolve) => ws.once('close', (code) => resolve(code)));
  const next = (): Promise<string> => {
    const frame = queue.shift();
    if (frame !== undefined) return Promise.resolve(frame);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error('no frame within 2 s')), 2000);
      waiters.push((value) => {
        clearTimeout(timer);
        resolve(value);
      });
    });
  };
  return { ws, next, closed };
}

/** Opens a Socket.IO session: v4 sends `40` and gets `40{sid}`; v2's server sends `40` unprompted. */
async function connect(base: string, version: 4 | 2): Promise<RawClient> {
  const { ws, next, closed } = open(`${base.replace(/^http/, 'ws')}/socket.io/?EIO=${version === 4 ? 4 : 3}&transport=websocket`);
  await once(ws, 'open');
  assert.match(await next(), /^0\{"sid":/);
  if (version === 4) ws.send('40');
  assert.match(await next(), version === 4 ? /^40\{"sid":/ : /^40$/);
  return {
    next,
    emit: (event, payload, ackId) => ws.send(`42${ackId ?? ''}${JSON.stringify([event, payload])}`),
    closed,
    close: () => ws.close(),
  };
}

async function authed(base: string, version: 4 | 2, id: string, groupId: string): Promise<RawClient> {
  const client = await connect(base, version);
  client.emit('auth', { id, groupId, token: `t-${id}` });
  assert.equal(await client.next(), '42["auth_result",{"success":true}]');
  return client;
}

const msgFrom = (from: string, groupId: string, content: unknown): string =>
  `42${JSON.stringify(['msg', { from, groupId, type: 1, content }])}`;
const msgResult = '42["msg_result",{"success":true}]';

async function withServer(options: SocketIoServerOptions, body: (server: Awaited<ReturnType<typeof startSocketIoServer>>) => Promise<void>): Promise<void> {
  const server = await startSocketIoServer(options);
  try {
    await body(server);
  } finally {
    await server.close();
  }
}

for (const version of [4, 2] as const) {
  test(`socket.io v${version}: ticket API`, () => withServer({ version }, async (server) => {
    const response = await fetch(`${server.url}/ticket?userId=7`);
    assert.equal(response.status, 200);
    assert.match(response.headers.get('content-type') ?? '', /^application\/json/);
    assert.deepEqual(await response.json(), { url: server.url, token: 't-7' });
    assert.equal(server.url, `http://127.0.0.1:${server.port}`);
    assert.equal((await fetch(`${server.url}/ticket`)).status, 400);
    assert.equal((await fetch(`${server.url}/nope`)).status, 404);
  }));

  test(`socket.io v${version}: auth, bad token, not authed`, () => withServer({ version }, async (server) => {
    const good = await authed(server.url, version, '1', '0');
    const bad = await connect(server.url, version);
    bad.emit('auth', { id: 2, groupId: 0, token: 't-3' });
    assert.equal(await bad.next(), '42["auth_result",{"success":false,"reason":"bad token"}]');
    bad.emit('msg', { type: 1, groupId: 0, content: 'x' });
    assert.equal(await bad.next(), '42["msg_result",{"success":false,"reason":"not authed"}]');
    bad.emit('auth', { id: 2, groupId: 0, token: 't-2' }); // numbers compare as strings
    assert.equal(await bad.next(), '42["auth_result",{"success":true}]');
    assert.equal(server.stats.authed(), 2);
    assert.equal(server.stats.connected(), 2);
    good.close();
    bad.close();
  }));

  test(`socket.io v${version}: a group broadcast reaches the group only, with ack and msg_result`, () => withServer({ version }, async (server) => {
    const [one, two, three] = [await authed(server.url, version, '1', '0'), await authed(server.url, version, '2', '0'), await authed(server.url, version, '3', '1')];
    const content = { seq: 1, sentAt: 1234.5, text: 'hi' };
    one.emit('msg', { type: 1, groupId: '0', content }, 7);
    assert.equal(await one.next(), msgFrom('1', '0', content));
    assert.equal(await one.next(), '437[{"success":true}]');
    assert.equal(await one.next(), msgResult);
    assert.equal(await two.next(), msgFrom('1', '0', content));
    // Member 3 of group 1 must not have got it: its own broadcast is the first frame it sees.
    three.emit('msg', { type: '1', groupId: '1', content: 'mine' });
    assert.equal(await three.next(), msgFrom('3', '1', 'mine'));
    assert.equal(await three.next(), msgResult);
    assert.deepEqual([server.stats.broadcasts(), server.stats.delivered()], [2, 3]);
    for (const client of [one, two, three]) client.close();
  }));

  test(`socket.io v${version}: deliver drops and duplicates per member; extraRecipients reach other groups`, () => withServer({
    version,
    deliver: (index, member) => (index > 0 ? 'deliver' : member === '1' ? 'duplicate' : member === '2' ? 'drop' : 'deliver'),
    extraRecipients: (index, groupId) => (index === 0 && groupId === '0' ? ['3'] : []),
  }, async (server) => {
    const [one, two, three] = [await authed(server.url, version, '1', '0'), await authed(server.url, version, '2', '0'), await authed(server.url, version, '3', '1')];
    one.emit('msg', { type: 1, groupId: '0', content: 'a' });
    assert.equal(await one.next(), msgFrom('1', '0', 'a'));
    assert.equal(await one.next(), msgFrom('1', '0', 'a'));
    assert.equal(await one.next(), msgResult);
    assert.equal(await three.next(), msgFrom('1', '0', 'a'));
    two.emit('msg', { type: 1, groupId: '0', content: 'b' });
    assert.equal(await two.next(), msgFrom('2', '0', 'b')); // 'a' was dropped
    assert.equal(await one.next(), msgFrom('2', '0', 'b'));
    assert.deepEqual([server.stats.broadcasts(), server.stats.delivered()], [2, 5]);
    for (const client of [one, two, three]) client.close();
  }));

  test(`socket.io v${version}: kill closes clients abnormally, restart accepts again on the same port`, () => withServer({ version }, async (server) => {
    const client = await authed(server.url, version, '1', '0');
    client.emit('msg', { type: 1, groupId: '0', content: 0 });
    assert.equal(await client.next(), msgFrom('1', '0', 0));
    await server.kill();
    assert.equal(await client.closed, 1006);
    assert.equal(server.stats.connected(), 0);
    await assert.rejects(fetch(`${server.url}/ticket?userId=1`));
    await server.restart();
    assert.deepEqual([server.stats.authed(), server.stats.delivered(), server.stats.broadcasts()], [0, 0, 1]);
    const again = await authed(server.url, version, '1', '0');
    assert.equal(server.stats.authed(), 1);
    again.close();
  }));
}

test('a v4 server started after a v2 one does not inherit its unprompted `40`', async () => {
  // socket.io@2 writes `initialPacket: ['0']` into the options object it is given.
  const v2 = await startSocketIoServer({ version: 2 });
  try {
    await withServer({ version: 4 }, async (v4) => {
      const client = await authed(v4.url, 4, '1', '0'); // connect() expects `40{"sid"` right after `40`
      client.close();
    });
  } finally {
    await v2.close();
  }
});

test('ws: /echo echoes text and binary; /broadcast reaches its group only', async () => {
  const server = await startWsServer();
  try {
    const echo = open(`${server.url}/echo`);
    await once(echo.ws, 'open');
    echo.ws.send('hello');
    assert.equal(await echo.next(), 'hello');
    const binary = once(echo.ws, 'message');
    echo.ws.send(Buffer.from([1, 2, 3]));
    const [data, isBinary] = await binary;
    assert.deepEqual([data, isBinary], [Buffer.from([1, 2, 3]), true]);
    const [a, b, c] = [open(`${server.url}/broadcast?group=g1`), open(`${server.url}/broadcast?group=g1`), open(`${server.url}/broadcast?group=g2`)];
    await Promise.all([a, b, c].map((client) => once(client.ws, 'open')));
    a.ws.send('to g1');
    assert.equal(await a.next(), 'to g1');
    assert.equal(await b.next(), 'to g1');
    c.ws.send('to g2');
    assert.equal(await c.next(), 'to g2'); // not 'to g1'
    assert.equal(server.stats.connections(), 4);
    assert.equal(server.stats.messages(), 4);
    for (const client of [echo, a, b, c]) client.ws.close();
  } finally {
    await server.close();
  }
});
