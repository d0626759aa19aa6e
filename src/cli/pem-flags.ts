/** PEM files named on the command line (--ca, --tls-cert, --tls-key), read and checked before any socket opens. */
import { UsageError } from '../errors.js';
import { certificateProblem, keyMatchesCertificate, privateKeyProblem, readPemFile } from '../pem.js';

/** A certificate and its private key, PEM text, both checked. */
export interface TlsPair {
  cert: string;
  key: string;
}

/** Reads a PEM file a flag names and checks it (`check`: src/pem.ts); a bad file is one line naming the flag, not a stack trace. */
export async function readPem(file: string, flag: string, check: (text: string) => string | undefined): Promise<string> {
  const outcome = await readPemFile(file);
  if (!outcome.ok) throw new UsageError(`${flag} ${file}: cannot read it (${outcome.problem})`);
  const problem = check(outcome.text);
  if (problem !== undefined) throw new UsageError(`${flag} ${file}: ${problem}`);
  return outcome.text;
}

/** --tls-cert and --tls-key, both or neither: the pair read and checked before listening, or undefined. */
export async function tlsPairOf(certFile: string | undefined, keyFile: string | undefined): Promise<TlsPair | undefined> {
  if ((certFile === undefined) !== (keyFile === undefined)) throw new UsageError('--tls-cert and --tls-key go together: give both files');
  return certFile === undefined || keyFile === undefined ? undefined : readTlsPair(certFile, keyFile);
}

/** Reads --tls-cert and --tls-key and checks them before listening. */
async function readTlsPair(certFile: string, keyFile: string): Promise<TlsPair> {
  const cert = await readPem(certFile, '--tls-cert', certificateProblem);
  const key = await readPem(keyFile, '--tls-key', privateKeyProblem);
  if (!keyMatchesCertificate(cert, key)) throw new UsageError(`--tls-key ${keyFile}: not the private key of the certificate in ${certFile}`);
  return { cert, key };
}
