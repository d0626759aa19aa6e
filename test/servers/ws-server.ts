import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { WebSocketServer, type WebSocket } from 'ws';

/** A real WebSocket server on 127.0.0.1, port 0: `/echo` and `/broadcast?group=G`. */
export interface WsTestServer {
  /** ws://127.0.0.1:port */
  readonly url: string;
  readonly stats: {
    /** WebSocket connections accepted so far. */
    connections(): number;
    /** Messages received so far (not counting what the server sends). */
    messages(): number;
  };
  close(): Promise<void>;
}

/**
 * Starts the server. `/echo` sends every message back unchanged (`/echo?delayMs=N`: N ms later); `/broadcast?group=G`
 * sends every message to every open connection of group G, the sender included.
 * Text stays text and binary stays binary. Other paths are refused.
 */
export async function startWsServer(): Promise<WsTestServer> {
  const groups = new Map<string, Set<WebSocket>>();
  let connections = 0;
  let messages = 0;
  const http = createServer((_request, response) => response.writeHead(404).end());
  const wss = new WebSocketServer({ noServer: true, perMessageDeflate: false });

  const join = (ws: WebSocket, name: string): void => {
    const group = groups.get(name) ?? new Set<WebSocket>();
    groups.set(name, group.add(ws));
    ws.on('message', (data, isBinary) => {
      for (const member of group) if (member.readyState === member.OPEN) member.send(data, { binary: isBinary });
    });
    ws.on('close', () => {
      group.delete(ws);
      if (group.size === 0 && groups.get(name) === group) groups.delete(name);
    });
  };

  http.on('upgrade', (request, socket, head) => {
    const url = new URL(request.url ?? '/', 'http://localhost');
    if (url.pathname !== '/echo' && url.pathname !== '/broadcast') {
      socket.destroy();
      return;
    }
    wss.handleUpgrade(request, socket, head, (ws) => {
      connections += 1;
      ws.on('error', () => ws.terminate());
      ws.on('message', () => {
        messages += 1;
      });
      const delayMs = Number(url.searchParams.get('delayMs') ?? 0);
      if (url.pathname === '/echo') ws.on('message', (data, isBinary) => setTimeout(() => ws.readyState === ws.OPEN && ws.send(data, { binary: isBinary }), delayMs));
      else join(ws, url.searchParams.get('group') ?? '');
    });
  });

  await new Promise<void>((resolve) => http.listen(0, '127.0.0.1', () => resolve()));
  return {
    url: `ws://127.0.0.1:${(http.address() as AddressInfo).port}`,
    stats: { connections: () => connections, messages: () => messages },
    close: () => new Promise((resolve) => {
      for (const client of wss.clients) client.terminate();
      wss.close();
      http.close(() => resolve());
    }),
  };
}
