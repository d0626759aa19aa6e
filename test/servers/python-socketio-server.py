"""A python-socketio (Engine.IO 4) server on aiohttp, for spear's edge tests.

Started by test/servers/python-servers.ts under /usr/bin/python3 (Debian's
python3-socketio and python3-aiohttp). Listens on 127.0.0.1, port 0, and
prints "listening on http://127.0.0.1:PORT" once ready.

  --polling-only          refuse the websocket transport (Engine.IO answers 400)

The connect handler runs before python-socketio sends the namespace ack
(`40`), so what it emits reaches the client ahead of the ack. It reads the
connect's auth payload: {"refuse": "reason"} refuses the connect with that
reason; {"refuseFirst": "<user>"} refuses only the first connect of that user.

Events: `two` answers `first` and `second` back to back; `bin` answers `blob`
with three binary attachments whose first bytes would read as Engine.IO
packets (`1` close, `2` ping, `42["fake"]`), then `done`; `ask` emits
`question` asking for an ack and, when the ack comes, `answered`.
"""

import argparse
import asyncio
import sys

import socketio
from aiohttp import web


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument('--polling-only', action='store_true')
    args = parser.parse_args()

    transports = ['polling'] if args.polling_only else ['polling', 'websocket']
    sio = socketio.AsyncServer(async_mode='aiohttp', transports=transports, logger=False, engineio_logger=False)
    app = web.Application()
    sio.attach(app)
    refused_once = set()

    @sio.event
    async def connect(sid, environ, auth=None):
        auth = auth if isinstance(auth, dict) else {}
        if 'refuse' in auth:
            raise socketio.exceptions.ConnectionRefusedError(str(auth['refuse']))
        first = auth.get('refuseFirst')
        if first is not None and first not in refused_once:
            refused_once.add(first)
            raise socketio.exceptions.ConnectionRefusedError('come back later')
        await sio.emit('welcome', {'sid': sid}, to=sid)

    @sio.event
    async def two(sid, data=None):
        await sio.emit('first', {'n': 1}, to=sid)
        await sio.emit('second', {'n': 2}, to=sid)

    @sio.event
    async def bin(sid, data=None):
        await sio.emit('blob', {'kind': 'blob', 'close': b'1 would close', 'ping': b'2 would ping', 'fake': b'42["fake",1]'}, to=sid)
        await sio.emit('done', {'n': 3}, to=sid)

    @sio.event
    async def ask(sid, data=None):
        async def answered(*answer):
            await sio.emit('answered', {'args': list(answer)}, to=sid)
        await sio.emit('question', {'q': 1}, to=sid, callback=answered)

    async def start():
        runner = web.AppRunner(app)
        await runner.setup()
        site = web.TCPSite(runner, '127.0.0.1', 0)
        await site.start()
        port = site._server.sockets[0].getsockname()[1]
        print(f'listening on http://127.0.0.1:{port}', flush=True)
        # Until the parent closes our stdin (or dies).
        loop = asyncio.get_running_loop()
        await loop.run_in_executor(None, sys.stdin.read)
        await runner.cleanup()

    asyncio.run(start())


if __name__ == '__main__':
    main()
