import { isIP } from 'node:net';
import { dirname, resolve } from 'node:path';
import { ScenarioError } from '../errors.js';
import { certificateBundleProblem, certificateProblem, keyMatchesCertificate, privateKeyProblem, readPemFile } from '../pem.js';
import { describe, type Checker, type DocPath } from './checker.js';
import type { PemFile, Scenario, TargetTls } from './scenario.js';

export const tlsKeys = ['insecure', 'ca', 'cert', 'key', 'servername'] as const;

/** A DNS name: letters, digits, `-` and `_` in dot-separated labels. */
const hostNamePattern = /^(?=.{1,253}$)([A-Za-z0-9_]([A-Za-z0-9_-]{0,61}[A-Za-z0-9_])?)(\.[A-Za-z0-9_]([A-Za-z0-9_-]{0,61}[A-Za-z0-9_])?)*\.?$/;

/**
 * The scenario's `tls:` block, validated; file keys hold their paths with
 * empty PEM text (`loadTargetTls` fills it in). Undefined when absent or
 * when it sets nothing, so plans carry no TLS settings by default. Pure.
 */
export function tlsOf(value: unknown, check: Checker): TargetTls | undefined {
  if (value === undefined) return undefined;
  const record = check.mapping(value ?? {}, ['tls'], tlsKeys);
  if (record.insecure !== undefined && typeof record.insecure !== 'boolean') check.fail(['tls', 'insecure'], `expected true or false, got ${describe(record.insecure)}`);
  if ((record.cert === undefined) !== (record.key === undefined)) {
    check.fail(['tls', record.cert === undefined ? 'key' : 'cert'], 'tls.cert and tls.key go together: give the client certificate and its private key, or neither', 'key');
  }
  const tls: TargetTls = {
    insecure: record.insecure === true,
    ca: fileOf(record.ca, ['tls', 'ca'], check),
    cert: fileOf(record.cert, ['tls', 'cert'], check),
    key: fileOf(record.key, ['tls', 'key'], check),
    servername: record.servername === undefined ? undefined : servernameOf(record.servername, check),
  };
  const setsNothing = !tls.insecure && tls.ca === undefined && tls.cert === undefined && tls.servername === undefined;
  return setsNothing ? undefined : tls;
}

function fileOf(value: unknown, path: DocPath, check: Checker): PemFile | undefined {
  if (value === undefined) return undefined;
  const file = check.string(value, path);
  if (file.trim() === '') check.fail(path, 'expected the path of a PEM file, got ""');
  return { file, pem: '' };
}

function servernameOf(value: unknown, check: Checker): string {
  const name = check.string(value, ['tls', 'servername']);
  if (isIP(name) !== 0) {
    check.fail(['tls', 'servername'], `expected a host name, got the IP address ${JSON.stringify(name)} (SNI carries names only; leave servername out and an IP target is verified against the certificate's IP addresses)`);
  }
  if (!hostNamePattern.test(name)) check.fail(['tls', 'servername'], `expected a host name such as "api.example.com", got ${JSON.stringify(name)}`);
  return name;
}

/** `spear run`/`validate` flags that set target TLS over the file's `tls:`. */
export interface TlsFlags {
  /** `--insecure`: tls.insecure. */
  readonly insecure?: boolean | undefined;
  /** `--target-ca FILE`: tls.ca, relative to the working directory. */
  readonly targetCa?: string | undefined;
}

type FileKey = 'ca' | 'cert' | 'key';

/**
 * Applies `--insecure` and `--target-ca` over the scenario's `tls` (its
 * other keys stay), then reads and checks every PEM file it names (at most
 * 1 MiB each): the CA bundle parses, the certificate parses, the key is an
 * unencrypted private key and the certificate's. Paths from the file are
 * relative to it, from flags to the working directory. Throws a one-line
 * ScenarioError naming the file or flag and the key (`s.yaml: tls.ca:
 * cannot read ca.pem (no such file; …)`). Called by the coordinator only:
 * agents get the PEM text in their plans.
 */
export async function loadTargetTls(scenario: Scenario, scenarioFile: string | undefined, flags: TlsFlags): Promise<Scenario> {
  if (scenario.tls === undefined && flags.insecure !== true && flags.targetCa === undefined) return scenario;
  if (flags.targetCa !== undefined && flags.targetCa.trim() === '') throw new ScenarioError('tls.ca', 'expected the path of a PEM file, got ""', '--target-ca');
  const given: TargetTls = {
    ...(scenario.tls ?? { insecure: false, ca: undefined, cert: undefined, key: undefined, servername: undefined }),
    ...(flags.insecure === true ? { insecure: true } : {}),
    ...(flags.targetCa === undefined ? {} : { ca: { file: flags.targetCa, pem: '' } }),
  };
  const fromFlag = (key: FileKey): boolean => key === 'ca' && flags.targetCa !== undefined;
  const location = (key: FileKey): string => (fromFlag(key) ? '--target-ca' : scenarioFile ?? '(command line)');
  const fail = (key: FileKey, problem: string): never => {
    throw new ScenarioError(`tls.${key}`, problem, location(key));
  };
  const read = async (key: FileKey, file: PemFile | undefined, check: (text: string) => string | undefined): Promise<PemFile | undefined> => {
    if (file === undefined) return undefined;
    const baseDir = fromFlag(key) || scenarioFile === undefined ? process.cwd() : dirname(scenarioFile);
    const outcome = await readPemFile(resolve(baseDir, file.file));
    if (!outcome.ok) {
      const relative = fromFlag(key) ? 'paths on the command line are relative to the working directory' : 'paths are relative to the scenario file';
      return fail(key, outcome.missing ? `cannot read ${file.file} (no such file; ${relative})` : `cannot read ${file.file} (${outcome.problem})`);
    }
    const problem = check(outcome.text);
    return problem === undefined ? { file: file.file, pem: outcome.text } : fail(key, `${file.file}: ${problem}`);
  };
  const ca = await read('ca', given.ca, certificateBundleProblem);
  const cert = await read('cert', given.cert, certificateProblem);
  const key = await read('key', given.key, privateKeyProblem);
  if (cert !== undefined && key !== undefined && !keyMatchesCertificate(cert.pem, key.pem)) {
    fail('key', `${key.file}: not the private key of the certificate in ${cert.file}: give the key the certificate was made with`);
  }
  return { ...scenario, tls: { ...given, ca, cert, key } };
}
