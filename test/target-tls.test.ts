/**
 * Target TLS (scenario `tls:`, `--insecure`, `--target-ca`): the real CLI
 * against a real HTTPS/wss server on 127.0.0.1 with a self-signed
 * certificate made by the openssl command at test time.
 */
import assert from 'node:assert/strict';
import { generateKeyPairSync } from 'node:crypto';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { ExitCode } from '../src/errors.js';
import { targetTlsOptions } from '../src/protocols/target-tls.js';
import { readResult } from '../src/report/result-file.js';
import { parseScenario } from '../src/scenarios/load.js';
import { planAgents } from '../src/scenarios/plan.js';
import type { TargetTls } from '../src/scenarios/scenario.js';
import { wireVersion } from '../src/wire/messages.js';
import { parseCoordinatorMessage } from '../src/wire/parse.js';
import { startTlsServer, type TlsTestServer } from './servers/tls-server.js';
import { opensslMissing, selfSignedCertificate, type CertificateFiles } from './support/certificates.js';
import { runSpear, tempDir } from './support/spear.js';

let dir: { path: string; cleanup: () => Promise<void> };
/** Undefined without openssl: the tests that need a server skip. */
let certificate: CertificateFiles | undefined;
let server: TlsTestServer | undefined;

before(async () => {
  dir = await tempDir();
  // Valid for the IP the tests dial and for a name only SNI can ask for.
  certificate = selfSignedCertificate(dir.path, 'spear-target', 'IP:127.0.0.1,DNS:spear-target.test');
  if (certificate === undefined) return;
  const cert = await readFile(certificate.cert, 'utf8');
  server = await startTlsServer({ cert, key: await readFile(certificate.key, 'utf8'), clientCa: cert });
});

after(async () => {
  await server?.close();
  await dir.cleanup();
});

/** Until src/protocols/http/http-connection.ts spreads targetTlsOptions(plan.tls) into tls.connect, HTTP load ignores tls settings. */

async function httpRun(name: string, flags: readonly string[]): Promise<{ code: number; stdout: string; stderr: string; requests: number; errors: Record<string, number>; served: number }> {
  assert.ok(server !== undefined);
  const out = join(dir.path, `${name}.json`);
  const before = server.received();
  const run = await runSpear(['run', '--target', server.url, '-c', '2', '-d', '1s', '-a', '1', '--progress', 'quiet', '--out', out, ...flags], { cwd: dir.path });
  const result = await readResult(out);
  return { ...run, requests: result.summary.requests, errors: result.summary.errorCodes, served: server.received() - before };
}

test('(a) HTTP to a self-signed target without options: every error is connect:DEPTH_ZERO_SELF_SIGNED_CERT, with a hint naming --insecure and --target-ca', async (t) => {
  if (server === undefined) return t.skip(opensslMissing);
  const run = await httpRun('self-signed', []);
  assert.equal(run.code, ExitCode.noSuccess, run.stderr);
  assert.equal(run.requests, 0);
  assert.deepEqual(Object.keys(run.errors), ['connect:DEPTH_ZERO_SELF_SIGNED_CERT']);
  assert.match(run.stdout, /hint: DEPTH_ZERO_SELF_SIGNED_CERT: .*--target-ca FILE \(tls\.ca\).*--insecure \(tls\.insecure: true\)/);
  assert.match(run.stderr, /no request succeeded: [\d,]+ connect:DEPTH_ZERO_SELF_SIGNED_CERT \(.*--insecure/);
});

test('(b) HTTP with --insecure: no errors, and spear counted what the server served', async (t) => {
  if (server === undefined) return t.skip(opensslMissing);
  const run = await httpRun('insecure', ['--insecure']);
  assert.equal(run.code, 0, run.stderr);
  assert.deepEqual(run.errors, {});
  assert.ok(run.requests > 0);
  assert.equal(run.requests, run.served);
});

test('(c) HTTP with --target-ca (the self-signed certificate is its own CA): no errors', async (t) => {
  if (server === undefined || certificate === undefined) return t.skip(opensslMissing);
  const run = await httpRun('target-ca', ['--target-ca', 'spear-target.pem']);
  assert.equal(run.code, 0, run.stderr);
  assert.deepEqual(run.errors, {});
  assert.ok(run.requests > 0);
  assert.equal(run.requests, run.served);
});

/** A wss scenario: optionally an http step (undici) first, then a WebSocket echo. */
async function sessionRun(name: string, tls: string, steps: string): Promise<{ code: number; stdout: string; stderr: string; resultText: string }> {
  assert.ok(server !== undefined);
  const file = join(dir.path, `${name}.yaml`);
  await writeFile(file, `protocol: ws
target: ${server.url}
load: { users: 4, connectRate: 200/s, hold: 1s }
agents: 1
tls: ${tls}
flow:
${steps}`);
  const out = join(dir.path, `${name}.json`);
  const run = await runSpear(['run', file, '--progress', 'quiet', '--out', out]);
  return { ...run, resultText: await readFile(out, 'utf8') };
}

const echoSteps = `  - connect: { url: /echo }
  - send: { data: "hi {{user}}" }
  - expect: { contains: "hi " }
`;

test('(d) wss with tls.insecure: users connect and echo', async (t) => {
  if (server === undefined) return t.skip(opensslMissing);
  const opened = server.webSockets();
  const run = await sessionRun('wss-insecure', '{ insecure: true }', echoSteps);
  assert.equal(run.code, 0, run.stderr);
  const result = await readResult(join(dir.path, 'wss-insecure.json'));
  assert.deepEqual(result.summary.errorCodes, {});
  assert.equal(result.summary.connections?.opened, 4);
  assert.equal(server.webSockets() - opened, 4);
});

test('(d) tls.ca, tls.servername and a client certificate: http steps (undici) and wss connects verify, the server sees the client certificate, the result keeps no PEM', async (t) => {
  if (server === undefined) return t.skip(opensslMissing);
  const before = { requests: server.received(), authorized: server.authorizedWebSockets() };
  const run = await sessionRun('wss-ca', '{ ca: spear-target.pem, servername: spear-target.test, cert: spear-target.pem, key: spear-target.key }', `  - http: { url: /ticket }\n${echoSteps}`);
  assert.equal(run.code, 0, run.stderr);
  const result = await readResult(join(dir.path, 'wss-ca.json'));
  assert.deepEqual(result.summary.errorCodes, {});
  assert.equal(result.summary.requests, 4);
  assert.equal(server.received() - before.requests, 4);
  assert.equal(server.authorizedWebSockets() - before.authorized, 4, 'every WebSocket presented the client certificate');
  assert.doesNotMatch(run.resultText, /BEGIN/, 'no certificate or key text in the result');
  assert.deepEqual(result.scenario.tls?.key, { file: 'spear-target.key', pem: '' });
});

test('(d) a servername the certificate does not list: connect:ERR_TLS_CERT_ALTNAME_INVALID, with a hint naming tls.servername', async (t) => {
  if (server === undefined) return t.skip(opensslMissing);
  const run = await sessionRun('wss-altname', '{ ca: spear-target.pem, servername: elsewhere.test }', echoSteps);
  assert.equal(run.code, ExitCode.noSuccess, run.stderr);
  const result = await readResult(join(dir.path, 'wss-altname.json'));
  assert.deepEqual(result.summary.errorCodes, { 'connect:ERR_TLS_CERT_ALTNAME_INVALID': 4 });
  assert.match(run.stdout, /hint: ERR_TLS_CERT_ALTNAME_INVALID: .*tls\.servername.*--insecure/);
});

/** Bad TLS files: one line naming where, the key and the fix; exit code 3, before any load. */
const badFiles: readonly { name: string; tls: string; flags?: readonly string[]; error: string }[] = [
  { name: 'missing-ca', tls: '{ ca: nowhere.pem }', error: 'FILE: tls.ca: cannot read nowhere.pem (no such file; paths are relative to the scenario file)' },
  { name: 'missing-target-ca', tls: '{ insecure: false }', flags: ['--target-ca', 'nowhere.pem'], error: '--target-ca: tls.ca: cannot read nowhere.pem (no such file; paths on the command line are relative to the working directory)' },
  { name: 'ca-not-pem', tls: '{ ca: not-pem.txt }', error: 'FILE: tls.ca: not-pem.txt: not a PEM certificate: give a file with one or more -----BEGIN CERTIFICATE----- blocks' },
  { name: 'cert-not-pem', tls: '{ cert: other.pem, key: not-pem.txt }', error: 'FILE: tls.cert: other.pem: not a PEM certificate: give a file with a -----BEGIN CERTIFICATE----- block' },
  { name: 'cert-without-key', tls: '{ cert: spear-target.pem }', error: 'FILE:3: tls.cert: tls.cert and tls.key go together: give the client certificate and its private key, or neither' },
];

for (const { name, tls, flags, error } of badFiles) {
  test(`(e) bad tls files (${name}): the exact one-line error, exit code 3`, async () => {
    await writeFile(join(dir.path, 'not-pem.txt'), 'hello\n');
    await writeFile(join(dir.path, 'other.pem'), 'hello\n');
    const file = join(dir.path, `${name}.yaml`);
    await writeFile(file, `target: https://127.0.0.1:9\nduration: 1s\ntls: ${tls}\n`);
    for (const command of ['validate', 'run']) {
      const outcome = await runSpear([command, file, ...(flags ?? [])], { cwd: dir.path });
      assert.equal(outcome.stderr, `spear: ${error.replace('FILE', file)}\n`, command);
      assert.equal(outcome.code, 3, command);
      assert.equal(outcome.stdout, '');
    }
  });
}

test('(e) a key that is not the certificate\'s: named with both files', async (t) => {
  if (certificate === undefined) return t.skip(opensslMissing);
  const { privateKey } = generateKeyPairSync('ec', { namedCurve: 'prime256v1' });
  await writeFile(join(dir.path, 'stranger.key'), privateKey.export({ format: 'pem', type: 'pkcs8' }));
  const file = join(dir.path, 'mismatch.yaml');
  await writeFile(file, 'target: https://127.0.0.1:9\ntls: { cert: spear-target.pem, key: stranger.key }\n');
  const outcome = await runSpear(['validate', file]);
  assert.equal(outcome.stderr, `spear: ${file}: tls.key: stranger.key: not the private key of the certificate in spear-target.pem: give the key the certificate was made with\n`);
  assert.equal(outcome.code, 3);
});

const noTls: TargetTls = { insecure: false, ca: undefined, cert: undefined, key: undefined, servername: undefined };

test('targetTlsOptions: {} without settings; rejectUnauthorized, servername and one secure context; PEM this agent cannot load is an AgentError naming the files', async (t) => {
  assert.deepEqual(targetTlsOptions(undefined), {});
  assert.deepEqual(targetTlsOptions({ ...noTls, insecure: true, servername: 'spear-target.test' }), { rejectUnauthorized: false, servername: 'spear-target.test' });
  assert.throws(() => targetTlsOptions({ ...noTls, cert: { file: 'c.pem', pem: 'hello' }, key: { file: 'k.pem', pem: 'hello' } }), { code: 'E_AGENT', message: /c\.pem, k\.pem/ });
  if (certificate === undefined) return t.skip(opensslMissing);
  const options = targetTlsOptions({ ...noTls, ca: { file: 'spear-target.pem', pem: await readFile(certificate.cert, 'utf8') } });
  assert.deepEqual(Object.keys(options), ['secureContext']);
});

test('plans carry tls (PEM text included) to agents, bounded at 1 MiB per file, and no tls key without settings', () => {
  const scenario = parseScenario('target: https://127.0.0.1:1\nload: { connections: 2 }\n', 's.yaml');
  assert.equal('tls' in planAgents(scenario, 1)[0]!, false);
  const tls: TargetTls = { ...noTls, insecure: true, ca: { file: 'ca.pem', pem: '-----BEGIN CERTIFICATE-----' }, servername: 'spear-target.test' };
  const wire = (pem: string): unknown => JSON.parse(JSON.stringify({ type: 'plan', wireVersion, plan: planAgents({ ...scenario, tls: { ...tls, ca: { file: 'ca.pem', pem } } }, 1)[0] })) as unknown;
  const received = parseCoordinatorMessage(wire(tls.ca!.pem));
  assert.ok(received.type === 'plan');
  assert.deepEqual(received.plan.tls, tls);
  assert.throws(() => parseCoordinatorMessage(wire('x'.repeat(1024 * 1024 + 1))), { code: 'E_WIRE', message: 'plan.tls.ca.pem: expected at most 1048576 characters, got 1048577' });
});
