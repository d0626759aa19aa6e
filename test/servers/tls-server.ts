import { createServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import type { TLSSocket } from 'node:tls';
import { WebSocketServer } from 'ws';

/** A real HTTPS + WebSocket (wss) server on 127.0.0.1, port 0, with the certificate it is given. */
export interface TlsTestServer {
  /** https://127.0.0.1:port */
  readonly url: string;
  /** HTTP requests received so far, any path. */
  received(): number;
  /** WebSocket connections accepted so far on /echo. */
  webSockets(): number;
  /** Of those, the ones whose client presented a certificate signed by the server's `clientCa`. */
  authorizedWebSockets(): number;
  close(): Promise<void>;
}

/**
 * Starts the server: `/ticket` answers `{"ok":true}`, any other path 172
 * bytes, and `/echo` upgrades to a WebSocket that sends every message back.
 * It asks every client for a certificate and accepts those without one
 * (`requestCert`, not `rejectUnauthorized`), so client-certificate runs
 * can count what it verified against `clientCa`.
 */
export async function startTlsServer(pem: { cert: string; key: string; clientCa: string }): Promise<TlsTestServer> {
  let received = 0;
  let webSockets = 0;
  let authorized = 0;
  const body = Buffer.alloc(172, 'x');
  const server = createServer({ cert: pem.cert, key: pem.key, ca: pem.clientCa, requestCert: true, rejectUnauthorized: false }, (request, response) => {
    received += 1;
    request.resume();
    if (request.url?.startsWith('/ticket') === true) {
      response.writeHead(200, { 'content-type': 'application/json' }).end('{"ok":true}');
      return;
    }
    response.writeHead(200, { 'content-type': 'text/plain', 'content-length': body.length }).end(body);
  });
  server.keepAliveTimeout = 60_000;
  const wss = new WebSocketServer({ server, path: '/echo', perMessageDeflate: false });
  wss.on('connection', (ws, request) => {
    webSockets += 1;
    if ((request.socket as TLSSocket).authorized) authorized += 1;
    ws.on('error', () => ws.terminate());
    ws.on('message', (data, isBinary) => ws.send(data, { binary: isBinary }));
  });
  // A client that rejects the certificate aborts the handshake: that is the test, not a server failure.
  server.on('tlsClientError', () => undefined);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  return {
    url: `https://127.0.0.1:${(server.address() as AddressInfo).port}`,
    received: () => received,
    webSockets: () => webSockets,
    authorizedWebSockets: () => authorized,
    close: () => new Promise((resolve) => {
      for (const client of wss.clients) client.terminate();
      wss.close();
      server.closeAllConnections();
      server.close(() => resolve());
    }),
  };
}
