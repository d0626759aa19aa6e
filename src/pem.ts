/**
 * PEM files spear reads: the agent's own certificate and key (`spear agent
 * --tls-cert/--tls-key`), the remote agents' CA (`spear run --ca`) and the
 * target's TLS settings (scenario `tls:`, `--target-ca`). Each check returns
 * the problem as a phrase ("not a PEM certificate: give …") or undefined, so
 * the CLI and the scenario loader name the flag or key around it. OpenSSL's
 * own messages vary by version and never say which file: these do.
 */
import { createPrivateKey, X509Certificate } from 'node:crypto';
import { readFile, stat } from 'node:fs/promises';
import { errnoOf } from './errors.js';

/**
 * Largest PEM file read: a CA bundle of several hundred certificates fits.
 * The target's files travel inside every agent's plan (wire limit
 * `planLimits.pemChars`, the same number).
 */
export const maxPemBytes = 1024 * 1024;

/** A PEM file's text, or why it could not be read: `missing`, an errno code, or too large. */
export type PemRead =
  | { readonly ok: true; readonly text: string }
  | { readonly ok: false; readonly missing: boolean; readonly problem: string };

/** Reads a PEM file of at most `maxPemBytes`. Never throws. */
export async function readPemFile(path: string): Promise<PemRead> {
  try {
    const { size } = await stat(path);
    if (size > maxPemBytes) return { ok: false, missing: false, problem: `it is ${(size / 1048576).toFixed(1)} MiB; PEM files are limited to ${maxPemBytes / 1048576} MiB` };
    return { ok: true, text: await readFile(path, 'utf8') };
  } catch (error) {
    const code = errnoOf(error) ?? 'unknown error';
    return { ok: false, missing: code === 'ENOENT', problem: code === 'ENOENT' ? 'no such file' : code };
  }
}

const certificateBlock = /-----BEGIN CERTIFICATE-----[\s\S]*?-----END CERTIFICATE-----/g;

/** A single certificate (it may be followed by its chain): the first block must parse. */
export function certificateProblem(text: string): string | undefined {
  return succeeds(() => new X509Certificate(text)) ? undefined : 'not a PEM certificate: give a file with a -----BEGIN CERTIFICATE----- block';
}

/**
 * A CA bundle: one or more certificate blocks, every one of them parsable
 * (Node's `ca` option silently skips what it cannot parse, so a broken
 * bundle would only show up as verification errors during the run).
 */
export function certificateBundleProblem(text: string): string | undefined {
  const blocks = text.match(certificateBlock) ?? [];
  if (blocks.length === 0) return 'not a PEM certificate: give a file with one or more -----BEGIN CERTIFICATE----- blocks';
  const bad = blocks.findIndex((block) => !succeeds(() => new X509Certificate(block)));
  return bad < 0 ? undefined : `certificate ${bad + 1} of ${blocks.length} is not valid PEM: give a file of -----BEGIN CERTIFICATE----- blocks`;
}

/** An unencrypted private key (spear has no way to ask for a passphrase). */
export function privateKeyProblem(text: string): string | undefined {
  return succeeds(() => createPrivateKey(text)) ? undefined : 'not an unencrypted PEM private key: give a file with a -----BEGIN ... PRIVATE KEY----- block';
}

/**
 * Whether `key` is the private key of `cert` (both already checked on their
 * own). Not createSecureContext: OpenSSL there drops a key of another type
 * (an EC key with an RSA certificate) without an error.
 */
export function keyMatchesCertificate(cert: string, key: string): boolean {
  try {
    return new X509Certificate(cert).checkPrivateKey(createPrivateKey(key));
  } catch {
    return false;
  }
}

function succeeds(attempt: () => unknown): boolean {
  try {
    attempt();
    return true;
  } catch {
    return false;
  }
}
