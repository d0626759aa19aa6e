import assert from 'node:assert/strict';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { ExitCode, ScenarioError } from '../src/errors.js';
import { substituteEnvironment } from '../src/scenarios/env-substitution.js';
import { parseScenario } from '../src/scenarios/load.js';
import { runSpear, tempDir } from './support/spear.js';

const env = { TARGET: 'http://127.0.0.1:8080', USERS: '250', EMPTY: '' };
const sub = (text: string, environment: Record<string, string> = env, max = 1 << 20): string => substituteEnvironment(text, environment, 's.yaml', max);

/** The one-line message a substitution fails with (and that it is a scenario error, exit code 3). */
function failure(text: string, environment: Record<string, string> = env, max = 1 << 20): string {
  try {
    sub(text, environment, max);
  } catch (error) {
    assert.ok(error instanceof ScenarioError);
    assert.equal(error.code, 'E_SCENARIO');
    assert.equal(error.exitCode, ExitCode.scenario);
    return error.message;
  }
  assert.fail(`no error for ${JSON.stringify(text)}`);
}

test('set variables, defaults (:- for unset or empty, - for unset only) and escapes', () => {
  assert.equal(sub('target: ${TARGET}\nload: {users: ${USERS}}\n'), 'target: http://127.0.0.1:8080\nload: {users: 250}\n');
  assert.equal(sub('a: ${NOPE:-100}\nb: ${EMPTY:-7}\nc: ${USERS:-1}\nd: ${NOPE:-}\n'), 'a: 100\nb: 7\nc: 250\nd: \n');
  assert.equal(sub('a: ${NOPE-5}\nb: "${EMPTY-5}"\nc: ${EMPTY}\n'), 'a: 5\nb: ""\nc: \n');
  assert.equal(sub('a: ${NOPE:-http://x:1/a?b=c d}\n'), 'a: http://x:1/a?b=c d\n');
  assert.equal(sub('a: $${TARGET} $$${USERS} ${USERS}$${x\n'), 'a: ${TARGET} $${USERS} 250${x\n');
  assert.equal(sub('a: $TARGET $ $$ {TARGET}\n'), 'a: $TARGET $ $$ {TARGET}\n');
});

test('flow templates and text without ${ are untouched', () => {
  const flow = 'flow:\n  - http: {url: "/t?u={{user}}&g={{ group }}", capture: {url: url}}\n  - emit: {event: a, data: {x: "{{feeder.x}}", t: "${TARGET}"}}\n';
  assert.equal(sub(flow), flow.replace('${TARGET}', env.TARGET));
  const plain = 'target: http://h:1 # $ and {{user}}\n';
  assert.equal(sub(plain, {}), plain);
});

test('an unset variable without a default names the variable and the line', () => {
  assert.equal(failure('name: x\n\ntarget: ${TARGET}\n', {}), 's.yaml:3: ${TARGET} is not set: export TARGET=… or write ${TARGET:-default}');
  assert.equal(failure('a: 1\r\nb: "${USERS}${NOPE}"\r\n'), 's.yaml:2: ${NOPE} is not set: export NOPE=… or write ${NOPE:-default}');
});

test('a malformed ${ is an error naming the line', () => {
  assert.equal(failure('a: 1\nb: ${TARGET\n'), 's.yaml:2: "${TARGET" is not closed: end it with } on the same line (before any # comment), or write $${ for a literal ${');
  assert.equal(failure('b: ${TARGET\nc: }\n'), 's.yaml:1: "${TARGET" is not closed: end it with } on the same line (before any # comment), or write $${ for a literal ${');
  const forms = 'write ${NAME}, ${NAME:-default} or ${NAME-default} (NAME: letters, digits and _, not starting with a digit), or $${ for a literal ${';
  assert.equal(failure('a: ${1X}\n'), `s.yaml:1: "\${1X}" is not a variable: ${forms}`);
  assert.equal(failure('a: ${}\n'), `s.yaml:1: "\${}" is not a variable: ${forms}`);
  assert.equal(failure('a: ${A B}\n'), `s.yaml:1: "\${A B}" is not a variable: ${forms}`);
  assert.equal(failure('a: ${A:?oops}\n'), `s.yaml:1: "\${A:?oops}" is not a variable: ${forms}`);
  assert.equal(failure('a: "${{user}}"\n'), `s.yaml:1: "\${{user}" is not a variable: ${forms}`);
  assert.equal(failure('a: ${A:-${B}}\n'), 's.yaml:1: "${A:-${B}": a default cannot hold another ${ (no nesting): give a literal default');
});

test('comments are copied as written, never an error; # inside quotes or a block scalar is text', () => {
  const text = '# export ${TOKEN} first\ntarget: ${TARGET}  # or ${OTHER}, ${broken\n# users: ${USERS\nq: "a # ${USERS}"\nb: |\n  # ${USERS}\n';
  assert.equal(sub(text), '# export ${TOKEN} first\ntarget: http://127.0.0.1:8080  # or ${OTHER}, ${broken\n# users: ${USERS\nq: "a # 250"\nb: |\n  # 250\n');
  assert.equal(failure('a: ${NOPE:-x #y}\n'), 's.yaml:1: "${NOPE:-x " is not closed: end it with } on the same line (before any # comment), or write $${ for a literal ${');
});

test('a value with a line break is refused; the result is bounded', () => {
  assert.equal(failure('a: "${PEM}"\n', { PEM: 'x\ny' }), 's.yaml:1: ${PEM}: the value holds a line break; a value from the environment must be one line');
  const big = 'x'.repeat(600_000);
  assert.equal(sub('a: ${BIG}\n', { BIG: big }, 600_004), `a: ${big}\n`);
  assert.equal(failure('a: ["${BIG}", "${BIG}"]\n', { BIG: big }, 1048576), 's.yaml:1: "${BIG}" makes the scenario longer than 1048576 characters (1 Mi), the limit for a scenario: use a shorter value');
});

test('substituted numbers parse as numbers', () => {
  const scenario = parseScenario(sub('target: ${TARGET}\nload:\n  connections: ${USERS}\n'), 's.yaml');
  assert.equal(scenario.target, env.TARGET);
  assert.ok(scenario.protocol === 'http' && scenario.load.model === 'closed');
  assert.equal(scenario.load.connections, 250);
});

let dir: { path: string; cleanup: () => Promise<void> };

before(async () => {
  dir = await tempDir();
});

after(async () => {
  await dir.cleanup();
});

test('spear validate resolves ${VAR} from its environment and prints the plan', async () => {
  const file = join(dir.path, 'env.yaml');
  await writeFile(file, '# connections: ${SPEAR_ENV_TEST_UNSET}\ntarget: ${SPEAR_ENV_TEST_TARGET}\nduration: ${SPEAR_ENV_TEST_UNSET:-5s}\nload:\n  connections: ${SPEAR_ENV_TEST_CONNECTIONS:-3}\nagents: 1\n');
  const given = await runSpear(['validate', file], { env: { SPEAR_ENV_TEST_TARGET: 'http://127.0.0.1:9', SPEAR_ENV_TEST_CONNECTIONS: '12' } });
  assert.equal(given.code, 0, given.stderr);
  assert.match(given.stdout, /target {6}http:\/\/127\.0\.0\.1:9\n/);
  assert.match(given.stdout, /closed model: 12 connections for 5s/);
  const defaulted = await runSpear(['validate', file], { env: { SPEAR_ENV_TEST_TARGET: 'http://127.0.0.1:9', SPEAR_ENV_TEST_CONNECTIONS: '' } });
  assert.equal(defaulted.code, 0, defaulted.stderr);
  assert.match(defaulted.stdout, /closed model: 3 connections for 5s/);
  const unset = await runSpear(['validate', file]);
  assert.equal(unset.code, 3);
  assert.equal(unset.stderr, `spear: ${file}:2: \${SPEAR_ENV_TEST_TARGET} is not set: export SPEAR_ENV_TEST_TARGET=… or write \${SPEAR_ENV_TEST_TARGET:-default}\n`);
  assert.equal(unset.stdout, '');
});

test('spear validate: a flow keeps its {{templates}}; a malformed ${ fails with exit code 3', async () => {
  const file = join(dir.path, 'flow.yaml');
  await writeFile(file, 'protocol: socketio\ntarget: ${SPEAR_ENV_TEST_TARGET:-http://127.0.0.1:3000}\nload: {users: ${SPEAR_ENV_TEST_USERS}, connectRate: 100/s, hold: 1s}\nagents: 1\nflow:\n  - connect: {}\n  - emit: {event: auth, data: {id: "{{user}}", token: "${SPEAR_ENV_TEST_TOKEN}"}}\n');
  const ok = await runSpear(['validate', file], { env: { SPEAR_ENV_TEST_USERS: '40', SPEAR_ENV_TEST_TOKEN: 't0k' } });
  assert.equal(ok.code, 0, ok.stderr);
  assert.match(ok.stdout, /load {8}40 socketio users/);
  assert.match(ok.stdout, /flow {8}connect → emit/);
  await writeFile(file, 'target: http://127.0.0.1:1\nload:\n  connections: ${SPEAR_ENV_TEST_USERS:-3\n');
  const broken = await runSpear(['validate', file]);
  assert.equal(broken.code, 3);
  assert.equal(broken.stderr, `spear: ${file}:3: "\${SPEAR_ENV_TEST_USERS:-3" is not closed: end it with } on the same line (before any # comment), or write $\${ for a literal \${\n`);
});

test('spear validate refuses a scenario file over 16 Mi characters', async () => {
  const file = join(dir.path, 'huge.yaml');
  const text = `target: http://127.0.0.1:1\n# ${'x'.repeat(16 * 1048576)}\n`;
  await writeFile(file, text);
  const outcome = await runSpear(['validate', file]);
  assert.equal(outcome.code, 3);
  assert.equal(outcome.stderr, `spear: ${file}: the scenario file has ${text.length} characters; a scenario is limited to 16777216 (16 Mi)\n`);
});
