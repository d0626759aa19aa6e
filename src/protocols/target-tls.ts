import { createSecureContext, type ConnectionOptions } from 'node:tls';
import { AgentError, messageOf } from '../errors.js';
import type { TargetTls } from '../scenarios/scenario.js';

/**
 * The `tls.connect` options every TLS connection to the target takes, from
 * a plan's `tls` (scenario `tls:`, `--insecure`, `--target-ca`): spread
 * them into tls.connect, ws or undici `connect` options. Undefined (no TLS
 * settings) gives `{}`: Node's defaults, the system's roots and SNI from
 * the URL's host.
 *
 * - `rejectUnauthorized: false` with `insecure` (chain and name unchecked);
 * - `secureContext` holding `ca` (replacing the system's roots, as Node's
 *   `ca` does), `cert` and `key`, built here once: passing `ca`/`cert`/`key`
 *   to every tls.connect would parse the PEM (a CA bundle may be hundreds
 *   of certificates) again for each connection;
 * - `servername` when set: sent in SNI and verified against the certificate.
 *
 * Call it once per pool (or fleet) and share the result: it allocates a
 * secure context each call. Throws an AgentError when the PEM does not load
 * here (the coordinator checked it, but this agent's OpenSSL may refuse,
 * e.g. a key too weak for its security level).
 */
export function targetTlsOptions(tls: TargetTls | undefined): ConnectionOptions {
  if (tls === undefined) return {};
  const options: ConnectionOptions = {};
  if (tls.insecure) options.rejectUnauthorized = false;
  if (tls.servername !== undefined) options.servername = tls.servername;
  if (tls.ca !== undefined || tls.cert !== undefined || tls.key !== undefined) {
    try {
      options.secureContext = createSecureContext({ ca: tls.ca?.pem, cert: tls.cert?.pem, key: tls.key?.pem });
    } catch (error) {
      throw new AgentError(`tls: the target's TLS files (${[tls.ca, tls.cert, tls.key].flatMap((file) => (file === undefined ? [] : [file.file])).join(', ')}) do not load on this agent: ${messageOf(error)}`);
    }
  }
  return options;
}
