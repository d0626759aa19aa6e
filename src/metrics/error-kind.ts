/**
 * Stable error kinds: wrk's split (connect, read, write, timeout) and, for
 * long connections, handshake (upgrade or Socket.IO connect refused),
 * disconnect (an open connection dropped) and flow (a step's expectation
 * failed), check (a flow http step's check failed: STATUS, MATCH, CONTAINS);
 * other for the rest. A response with a non-2xx/3xx status is not an error of
 * these kinds; it is counted per status code (`status` in the summary).
 * Classification reads `err.code` only, never the message.
 */
export const errorKinds = ['connect', 'read', 'write', 'timeout', 'handshake', 'disconnect', 'flow', 'check', 'other'] as const;
export type ErrorKind = (typeof errorKinds)[number];

const kindByCode: Readonly<Record<string, ErrorKind>> = {
  ECONNREFUSED: 'connect',
  ENOTFOUND: 'connect',
  EAI_AGAIN: 'connect',
  EMFILE: 'connect',
  ENFILE: 'connect',
  EADDRNOTAVAIL: 'connect',
  EADDRINUSE: 'connect',
  ENETUNREACH: 'connect',
  EHOSTUNREACH: 'connect',
  ETIMEDOUT: 'connect',
  SPEAR_CONNECT_TIMEOUT: 'connect',
  // TLS certificate verification (OpenSSL's X509_V_ERR_* names, as Node reports them) fails the connect.
  ERR_TLS_CERT_ALTNAME_INVALID: 'connect',
  DEPTH_ZERO_SELF_SIGNED_CERT: 'connect',
  SELF_SIGNED_CERT_IN_CHAIN: 'connect',
  UNABLE_TO_VERIFY_LEAF_SIGNATURE: 'connect',
  UNABLE_TO_GET_ISSUER_CERT: 'connect',
  UNABLE_TO_GET_ISSUER_CERT_LOCALLY: 'connect',
  CERT_UNTRUSTED: 'connect',
  CERT_SIGNATURE_FAILURE: 'connect',
  CERT_REJECTED: 'connect',
  INVALID_CA: 'connect',
  CERT_HAS_EXPIRED: 'connect',
  CERT_NOT_YET_VALID: 'connect',
  ERR_TLS_HANDSHAKE_TIMEOUT: 'connect',
  ECONNRESET: 'read',
  SPEAR_SOCKET_CLOSED: 'read',
  SPEAR_UNSOLICITED_RESPONSE: 'read',
  SPEAR_KEPT_CONNECTION_CLOSED: 'read',
  EPIPE: 'write',
  SPEAR_REQUEST_TIMEOUT: 'timeout',
  SPEAR_EXPECT_TIMEOUT: 'timeout',
  SPEAR_ACK_TIMEOUT: 'timeout',
  UND_ERR_CONNECT_TIMEOUT: 'connect',
  UND_ERR_HEADERS_TIMEOUT: 'timeout',
  UND_ERR_BODY_TIMEOUT: 'timeout',
  UND_ERR_SOCKET: 'read',
  SPEAR_EIO_HANDSHAKE: 'handshake',
  SPEAR_EIO_TRANSPORT: 'handshake',
  SPEAR_EIO_VERSION: 'handshake',
  SPEAR_EIO_TIMEOUT: 'handshake',
  SPEAR_NAMESPACE_TIMEOUT: 'handshake',
  SPEAR_CONNECT_ERROR: 'handshake',
  SPEAR_PING_TIMEOUT: 'disconnect',
  SPEAR_SERVER_CLOSED: 'disconnect',
  SPEAR_EXPECT_MISMATCH: 'flow',
  STATUS: 'check',
  MATCH: 'check',
  CONTAINS: 'check',
  SPEAR_CAPTURE_MISSING: 'flow',
  SPEAR_NOT_CONNECTED: 'flow',
  // A step spear refused to send (a rendered header that would split the request, a URL it cannot reach): the scenario's, not the server's.
  SPEAR_INVALID_HEADER: 'flow',
  SPEAR_INVALID_URL: 'flow',
  SPEAR_TARGET_NOT_ALLOWED: 'connect',
  SPEAR_RUN_ENDED: 'connect',
};

/** The error's `code` (an errno name, `HPE_*` from the response parser, or a `SPEAR_*` code), or "UNKNOWN". */
export function errorCodeOf(error: unknown): string {
  if (typeof error === 'object' && error !== null && 'code' in error) {
    const code = (error as { code: unknown }).code;
    if (typeof code === 'string' && code !== '') return code;
  }
  return 'UNKNOWN';
}

/** The kind of a failed exchange, from its code. HTTP parser errors (HPE_*) are read errors. */
export function errorKindOf(code: string): ErrorKind {
  const kind = kindByCode[code];
  if (kind !== undefined) return kind;
  if (code.startsWith('HPE_')) return 'read';
  // OpenSSL failures (a handshake alert, a plain-HTTP port): the TLS connection never became usable.
  if (code.startsWith('ERR_SSL_')) return 'connect';
  if (code.startsWith('UPGRADE_')) return 'handshake';
  // A WebSocket close frame from the server (WS_1000, WS_1011, …); WS_ERR_* are ws's framing errors on what it read.
  if (/^WS_\d+$/.test(code)) return 'disconnect';
  if (code.startsWith('WS_ERR_')) return 'read';
  return 'other';
}

/** Counter key for one error: "kind:CODE", as result files and reports show it. */
export function errorKey(error: unknown): string {
  const code = errorCodeOf(error);
  return `${errorKindOf(code)}:${code}`;
}

/** Counter key for an error counted under a given kind (a dropped connection is a disconnect whatever its errno). */
export function errorKeyAs(kind: ErrorKind, error: unknown): string {
  return `${kind}:${errorCodeOf(error)}`;
}

/** Splits a counter key back into kind and code. */
export function parseErrorKey(key: string): { kind: ErrorKind; code: string } {
  const colon = key.indexOf(':');
  const kind = key.slice(0, colon);
  return {
    kind: (errorKinds as readonly string[]).includes(kind) ? (kind as ErrorKind) : 'other',
    code: key.slice(colon + 1),
  };
}

/**
 * A one-line cause and fix for the codes that puzzle people most (wrk only
 * says "connect errors"). Undefined when the code speaks for itself.
 */
export function hintFor(code: string): string | undefined {
  switch (code) {
    case 'ECONNREFUSED':
      return 'nothing listens at the target address: check the URL and that the server is up';
    case 'EMFILE':
    case 'ENFILE':
      return 'the agent ran out of file descriptors: raise the hard limit (ulimit -Hn) or spread connections over more agents (--agents)';
    case 'EADDRNOTAVAIL':
      return 'out of ephemeral ports (~28k per source address to one destination), or a source address that is not this host\'s: list more addresses of this host under connection.sourceAddresses (each agent gets its own part; remote agents: spear agent --source-addresses), add load hosts, or widen net.ipv4.ip_local_port_range';
    case 'EADDRINUSE':
      return 'no free local port on a source address (spear binds connection.sourceAddresses before connecting, so each has ~28k ports for all destinations together, TIME_WAIT included): list more source addresses (connection.sourceAddresses, or spear agent --source-addresses on remote hosts), add load hosts, or widen net.ipv4.ip_local_port_range';
    case 'ETIMEDOUT':
    case 'SPEAR_CONNECT_TIMEOUT':
      return 'connects timed out: the server\'s listen backlog is likely full and dropping SYNs (raise its backlog and net.core.somaxconn) or the host is unreachable';
    case 'DEPTH_ZERO_SELF_SIGNED_CERT':
    case 'SELF_SIGNED_CERT_IN_CHAIN':
    case 'UNABLE_TO_VERIFY_LEAF_SIGNATURE':
    case 'UNABLE_TO_GET_ISSUER_CERT':
    case 'UNABLE_TO_GET_ISSUER_CERT_LOCALLY':
    case 'CERT_UNTRUSTED':
    case 'CERT_SIGNATURE_FAILURE':
    case 'INVALID_CA':
      return 'the target\'s TLS certificate is not signed by a CA spear trusts (self-signed, or a private CA): trust its CA with --target-ca FILE (tls.ca), or skip verification with --insecure (tls.insecure: true)';
    case 'CERT_HAS_EXPIRED':
    case 'CERT_NOT_YET_VALID':
      return 'the target\'s TLS certificate is outside its validity dates (check it, and the clocks of both hosts): renew it, or skip verification with --insecure (tls.insecure: true); --target-ca (tls.ca) does not help here';
    case 'ERR_TLS_CERT_ALTNAME_INVALID':
      return 'the target\'s TLS certificate does not name the URL\'s host: connect by a name it lists, set tls.servername to one of them, or skip verification with --insecure (tls.insecure: true)';
    case 'ERR_SSL_WRONG_VERSION_NUMBER':
      return 'the target did not answer in TLS: it serves plain HTTP on this port (use http:// or ws://) or TLS is on another port';
    case 'ERR_SSL_TLSV13_ALERT_CERTIFICATE_REQUIRED':
      return 'the server requires a client certificate: give one with tls.cert and tls.key';
    case 'ERR_SSL_SSLV3_ALERT_BAD_CERTIFICATE':
    case 'ERR_SSL_TLSV1_ALERT_UNKNOWN_CA':
      return 'the server rejected spear\'s client certificate (tls.cert): it is not signed by a CA the server trusts, or is missing when required';
    case 'ECONNRESET':
    case 'SPEAR_SOCKET_CLOSED':
      return 'the server closed connections mid-request: check its keep-alive limits and error log';
    case 'SPEAR_KEPT_CONNECTION_CLOSED':
      return 'the server closed a kept-alive connection without answering a request spear does not resend (POST, PATCH): it dropped the request, or its keep-alive timeout crossed it (a busy agent reads such closes late: see spear\'s health); not certain to be the server\'s fault: check its keep-alive timeout';
    case 'SPEAR_UNSOLICITED_RESPONSE':
      return 'the server sent a response no request asked for (two responses to one request, or bytes after a body): check its Content-Length and framing; spear closed those connections';
    case 'SPEAR_INVALID_HEADER':
      return 'spear refused to send a step whose rendered header holds CR, LF or NUL (often a captured value): the request was never sent, so the server is not to blame; check the capture or the header template';
    case 'SPEAR_INVALID_URL':
      return 'a step\'s rendered URL is not http: or https:, so spear never sent it: check the url template and the values it takes';
    case 'SPEAR_REQUEST_TIMEOUT':
      return 'responses took longer than timeouts.request: the server is saturated or stalled';
    case 'SPEAR_PING_TIMEOUT':
      return 'the server stopped sending Engine.IO heartbeats: it is overloaded (check its CPU around its ping cycle) or the link dropped';
    case 'SPEAR_RUN_ENDED':
      return 'users were still connecting when the run ended: lower load.connectRate, lengthen load.hold, or check the server\'s accept rate (listen backlog)';
    case 'UPGRADE_400':
      return 'the server refused the WebSocket upgrade as a bad request: check the connect URL and, for Socket.IO, socketio.path and socketio.eio';
    case 'SPEAR_EIO_TRANSPORT':
      return 'the Engine.IO server refuses the websocket transport (polling only, or websocket disabled): spear speaks Socket.IO over websocket only; add "websocket" to the server\'s transports';
    case 'SPEAR_EIO_VERSION':
      return 'the server does not speak the Engine.IO revision asked for: set socketio.eio to 4 for Socket.IO v3/v4 servers, 3 for v2 and netty-socketio (or enable allowEIO3 on a v3/v4 server)';
    case 'SPEAR_EIO_TIMEOUT':
      return 'the WebSocket opened but no Engine.IO open packet followed: check socketio.path, and socketio.eio (socket.io 3 without allowEIO3 ignores Engine.IO 3 clients silently)';
    case 'SPEAR_NAMESPACE_TIMEOUT':
      return 'the server never answered the Socket.IO namespace connect: check socketio.namespace and the server\'s connect middleware';
    case 'SPEAR_CONNECT_ERROR':
      return 'the server refused the Socket.IO namespace connect (its middleware or connect handler said no): check connect.auth and the server log';
    case 'WS_1000':
      return 'the server closed WebSockets normally (1000) while users still held them: check its idle, session or connection-lifetime limits';
    case 'WS_1001':
      return 'the server went away (1001): it restarted, shut down or shed connections';
    case 'WS_1011':
      return 'the server closed WebSockets on an internal error (1011): see its error log';
    case 'WS_ERR_UNSUPPORTED_MESSAGE_LENGTH':
      return 'the server sent a message over 16 MiB, spear\'s cap per message; the connection was closed (1009)';
    case 'SPEAR_EXPECT_TIMEOUT':
      return 'an expected event did not arrive within its timeout: check the event name and the server log';
    default:
      return undefined;
  }
}
