"""A python `websockets` server, for spear's plain WebSocket edge tests.

Started by test/servers/python-servers.ts under /usr/bin/python3 (Debian's
python3-websockets). Listens on 127.0.0.1, port 0, and prints
"listening on ws://127.0.0.1:PORT" once ready. Paths:

  /two            every message is answered twice, back to back: {"n":1}, {"n":2}
  /binary         every message is answered with a binary frame holding UTF-8 JSON
  /close/<n>      the first message is answered {"bye":true}; then the server
                  closes with code 1000, 1001 or 1011 (n mod 3) and the reason
                  "going <code>"
"""

import asyncio
import json
import sys

import websockets


async def handler(ws, path):
    if path == '/two':
        async for _ in ws:
            await ws.send(json.dumps({'n': 1}))
            await ws.send(json.dumps({'n': 2}))
    elif path == '/binary':
        async for _ in ws:
            await ws.send(json.dumps({'name': 'Jörg', 'city': 'Köln'}, ensure_ascii=False).encode('utf-8'))
    elif path.startswith('/close/'):
        code = [1000, 1001, 1011][int(path[len('/close/'):]) % 3]
        async for _ in ws:
            await ws.send(json.dumps({'bye': True}))
            await asyncio.sleep(0.2)
            await ws.close(code, f'going {code}')
            return
    else:
        await ws.close(1008, 'unknown path')


async def main():
    async with websockets.serve(handler, '127.0.0.1', 0, compression=None) as server:
        port = next(iter(server.sockets)).getsockname()[1]
        print(f'listening on ws://127.0.0.1:{port}', flush=True)
        loop = asyncio.get_running_loop()
        await loop.run_in_executor(None, sys.stdin.read)


if __name__ == '__main__':
    asyncio.run(main())
