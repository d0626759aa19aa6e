#!/usr/bin/env node
// bench/http-fuzz.mjs: spear's HTTP/1.1 response handling against node:http
// (llhttp) over many random well-formed responses: the comparison of
// test/http-differential.test.ts (same corpus generator, raw server and
// fetchers, compiled into build/test/support/) without its fixed seed and
// size. Every generated case is well formed, so the test's leniency table
// (for malformed input and limits) is not applied: any disagreement counts.
//
// For each case both clients fetch /case/N from a raw server that writes the
// bytes in random splits (down to 1 byte); they must agree on the outcome
// (response, error or hang), the status, and whether the connection carried
// the next request (/second, observed by the server), and match the case's
// truth: node's body length, spear's bytes on the wire (head + body), reuse.
//
// How to run (from the repo root):
//   npm run build && npx tsc -p tsconfig.test.json     # dist/ and build/test/
//   node bench/http-fuzz.mjs                           # 3,000 cases, a random seed (printed)
//   N=20000 SEED=12345 node bench/http-fuzz.mjs        # replay / extend one run
//   EDGE=1 node bench/http-fuzz.mjs                    # the named edge cases too (no leniency applied)
//   MUTATE=0.5 node bench/http-fuzz.mjs                # and a damaged copy of half the cases (malformed: no truth)
//   SPEAR_DIST=/tmp/old/dist node bench/http-fuzz.mjs  # another build of spear (e.g. an older commit)
//
// Env knobs (defaults in brackets)
//   N [3000] generated cases, SEED [random] (also SPEAR_FUZZ_SEED), CONCURRENCY [16] cases at once,
//   EDGE [0] add the named edge cases, SHOW [disagree] or "all" to print every case,
//   MUTATE [0] the share of generated cases followed by a damaged copy (mut-<n>-<mutation>-<kind>):
//     one byte replaced, deleted or inserted in the head, a CR dropped, the stream cut and closed,
//     a length digit changed, a header line duplicated, garbage appended. Malformed input is where
//     spear is deliberately lenient (bare LF, the head limit), so expect disagreements; they are
//     grouped by mutation and cause.
//   HANG_MS [400] ms without completion after the server wrote everything counts as a hang.
//
// Exit code: 0 when every case agrees, 1 when some disagree, 2 when it could not run.
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const REPO = join(dirname(fileURLToPath(import.meta.url)), '..');
const SUPPORT = join(REPO, 'build', 'test', 'support');

const env = (name, fallback) => (process.env[name] === undefined || process.env[name] === '' ? fallback : process.env[name]);
const integer = (name, fallback) => {
  const value = Number(env(name, String(fallback)));
  if (!Number.isInteger(value) || value < 0) throw new Error(`${name}=${process.env[name]}: expected a non-negative integer`);
  return value;
};

async function main() {
  for (const file of ['http-differential.js', 'response-corpus.js']) {
    if (!existsSync(join(SUPPORT, file))) throw new Error(`build/test/support/${file} is missing: run npm run build && npx tsc -p tsconfig.test.json first`);
  }
  const load = (file) => import(pathToFileURL(join(SUPPORT, file)).href);
  const { runDifferential, differences, describeOutcome, formatTable, spearHangsOnClosedConnection } = await load('http-differential.js');
  const { generatedCorpus, edgeCases, Prng, seedFromEnv } = await load('response-corpus.js');
  const { distDir } = await load('http-fetchers.js');
  if (!existsSync(fileURLToPath(new URL('protocols/http/http-connection.js', distDir)))) throw new Error(`${fileURLToPath(distDir)} has no protocols/http/http-connection.js: run npm run build first`);

  const count = integer('N', 3000);
  const seed = integer('SEED', seedFromEnv(Math.floor(Math.random() * 0xffff_ffff)));
  const concurrency = Math.max(1, integer('CONCURRENCY', 16));
  const hangMs = integer('HANG_MS', 400);
  const showAll = env('SHOW', 'disagree') === 'all';
  const mutate = Number(env('MUTATE', '0'));
  if (!(mutate >= 0 && mutate <= 1)) throw new Error(`MUTATE=${process.env.MUTATE}: expected a share between 0 and 1`);
  const cases = [...(env('EDGE', '0') === '1' ? edgeCases(new Prng(seed ^ 0x9e37_79b9)) : []), ...generatedCorpus(seed, count, mutate)];
  console.log(`http-fuzz: node ${process.version}, spear from ${fileURLToPath(distDir)}, ${cases.length} cases, SEED=${seed}, concurrency ${concurrency}`);

  const started = performance.now();
  let done = 0;
  const results = await runDifferential(cases, {
    concurrency,
    timing: { hangMs, settleMs: 25, capMs: 5000 },
    onResult: () => {
      done += 1;
      if (done % 500 === 0) process.stderr.write(`  ${done}/${cases.length} cases, ${((performance.now() - started) / 1000).toFixed(1)} s\n`);
    },
  });

  const rows = [];
  const byCause = new Map();
  let disagreeing = 0;
  for (const result of results) {
    const found = differences(result);
    if (spearHangsOnClosedConnection(result)) found.push('spear hung on a connection the server closed');
    if (found.length > 0) {
      disagreeing += 1;
      // Group by what differs, without the numbers (and by mutation for damaged cases).
      const mutation = /^mut-\d+-(replace-head-byte|delete-head-byte|insert-head-byte|drop-cr|truncate-and-close|change-length-digit|duplicate-header-line|append-garbage)-/.exec(result.responseCase.name)?.[1];
      const cause = `${mutation === undefined ? '' : `[${mutation}] `}${found.map((text) => text.replace(/\d+/g, 'N')).join('; ')}`;
      byCause.set(cause, (byCause.get(cause) ?? 0) + 1);
    }
    if (found.length > 0 || showAll) rows.push([result.responseCase.name, describeOutcome(result.node), describeOutcome(result.spear), found.join('; ') || 'agree']);
  }
  const seconds = ((performance.now() - started) / 1000).toFixed(1);
  if (rows.length > 0) console.log(`\n${formatTable(['case', 'node', 'spear', 'why it differs'], rows, 80)}`);
  if (byCause.size > 0) {
    console.log('\nDisagreements by cause:');
    for (const [cause, times] of [...byCause].sort((a, b) => b[1] - a[1])) console.log(`  ${String(times).padStart(6)}  ${cause}`);
  }
  console.log(`\n${results.length} cases in ${seconds} s: ${results.length - disagreeing} agree, ${disagreeing} disagree (SEED=${seed} N=${count}${env('EDGE', '0') === '1' ? ' EDGE=1' : ''}${mutate > 0 ? ` MUTATE=${mutate}` : ''})`);
  return disagreeing === 0 ? 0 : 1;
}

main().then((code) => process.exit(code), (error) => {
  console.error(`http-fuzz: ${error.stack ?? error}`);
  process.exit(2);
});
