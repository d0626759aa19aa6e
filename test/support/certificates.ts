import { spawnSync } from 'node:child_process';
import { join } from 'node:path';

/** Why TLS tests skip on a machine without the openssl CLI. */
export const opensslMissing = 'the openssl command is missing: install the Debian package openssl (apt-get install openssl) to run the TLS tests';

/** A certificate and its key, as PEM files. */
export interface CertificateFiles {
  readonly cert: string;
  readonly key: string;
}

/**
 * Makes a self-signed certificate (RSA 2048, valid one day) with the openssl
 * CLI, as `dir/NAME.pem` and `dir/NAME.key`: `subjectAltName` such as
 * "IP:127.0.0.1,DNS:localhost". Undefined when openssl is not installed
 * (or fails): callers skip with `opensslMissing`. Blocks for ~100 ms.
 */
export function selfSignedCertificate(dir: string, name: string, subjectAltName: string): CertificateFiles | undefined {
  const cert = join(dir, `${name}.pem`);
  const key = join(dir, `${name}.key`);
  const made = spawnSync('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', key, '-out', cert, '-days', '1', '-subj', `/CN=${name}`, '-addext', `subjectAltName=${subjectAltName}`], { stdio: 'ignore' });
  return made.status === 0 ? { cert, key } : undefined;
}
