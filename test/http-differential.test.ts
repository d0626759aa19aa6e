/**
 * Differential test of spear's HTTP/1.1 response handling (HttpConnection +
 * ResponseParser, from dist/) against node:http (llhttp, strict): every
 * corpus case is replayed by a raw server to both clients, and they must
 * agree on the kind of outcome (response, error, hang), the status, and
 * whether the connection was reused; where a case has truth, node's body
 * length and spear's wire bytes must equal it. Differences are allowed only
 * where the leniency table below says so.
 *
 * The corpus is seeded: SPEAR_FUZZ_SEED=<n> replays another one (the fixed
 * default is used otherwise); bench/http-fuzz.mjs runs thousands of
 * generated cases the same way.
 */
import assert from 'node:assert/strict';
import { before, test } from 'node:test';
import { type CaseResult, describeOutcome, differences, formatTable, runDifferential, spearHangsOnClosedConnection, truthDifferences } from './support/http-differential.js';
import type { Outcome } from './support/http-fetchers.js';
import { buildCorpus, seedFromEnv, type ResponseCase } from './support/response-corpus.js';

/** A deliberate, documented difference between spear and node. */
interface Leniency {
  /** Case names it may excuse. */
  readonly cases: RegExp;
  /** What node does there. */
  readonly node: string;
  /** What spear does there instead. */
  readonly spear: string;
  readonly why: string;
  /** True when the outcomes are exactly the difference described (anything else is still a disagreement). */
  readonly allows: (responseCase: ResponseCase, node: Outcome, spear: Outcome) => boolean;
}

const maxSafeLength = BigInt(Number.MAX_SAFE_INTEGER);

/** The largest Content-Length value in a case's head, or undefined. */
function contentLength(responseCase: ResponseCase): bigint | undefined {
  const values = [...responseCase.bytes.toString('latin1').matchAll(/content-length:[ \t]*(\d+)/gi)].map((match) => BigInt(match[1]!));
  return values.length === 0 ? undefined : values.reduce((a, b) => (a > b ? a : b));
}

const leniencies: readonly Leniency[] = [
  {
    cases: /^bare-lf-/,
    node: 'error HPE_* (the strict llhttp parser wants CRLF)',
    spear: "the response the case's lenientTruth gives (status and wire bytes; reuse is not compared, node gives none)",
    why: 'RFC 9112 §2.2 lets a recipient accept a bare LF as a line terminator; browsers and curl do, and a load generator should not fail on servers they accept',
    allows: (responseCase, node, spear) => {
      const lenient = responseCase.lenientTruth;
      return lenient !== undefined && node.kind === 'error' && node.code.startsWith('HPE_') && spear.kind === 'response' && spear.status === lenient.status && spear.wireBytes === lenient.wireBytes;
    },
  },
  {
    cases: /^head-limit-boundary-/,
    node: 'response: node:http (maxHeaderSize 64 KiB here) counts only the reason phrase, header names and values, and fails at 65,536 of those',
    spear: 'error HPE_HEADER_OVERFLOW: spear holds the whole head (status line, colons, spaces, CRLFs) to 64 KiB',
    why: 'the same 64 KiB limit counted two ways; spear counts what it buffers. The cases sit between the two counts',
    allows: (_responseCase, node, spear) => node.kind === 'response' && spear.kind === 'error' && spear.code === 'HPE_HEADER_OVERFLOW',
  },
  {
    cases: /^content-length-/,
    node: 'accepts up to 2^64-1 and waits for the body: hang on a kept connection, error when the server closes',
    spear: 'error (HPE_INVALID_CONTENT_LENGTH) as soon as the head arrives',
    why: 'JavaScript numbers count bytes exactly only up to 2^53-1 (about 9 PB): no real response is larger, and a wrong count is worse than a refusal',
    allows: (responseCase, node, spear) => {
      const length = contentLength(responseCase);
      return length !== undefined && length > maxSafeLength && (node.kind === 'hang' || node.kind === 'error') && spear.kind === 'error';
    },
  },
  {
    cases: /^(unsolicited-|garbage-after-response-|content-length-shorter-than-body|data-after-connection-close-response)/,
    node: 'bytes after a complete response: errors that response (the bytes fail the same parse), or reuses the connection and takes them as the next answer',
    spear: 'counts the complete response, charges read:SPEAR_UNSOLICITED_RESPONSE to the connection (not to any request) and closes it',
    why: 'a response nobody asked for must not be charged to the request that was answered, nor to the next one (issue 10 B/H); the server\'s fault is counted once, on the connection',
    allows: (_responseCase, node, spear) => node.kind !== 'hang' && spear.kind === 'response' && spear.reused === false && (spear.connectionErrors ?? []).includes('SPEAR_UNSOLICITED_RESPONSE'),
  },
  {
    cases: /^(status-line-(rtsp|ice|cr-cr)|version-http-(2\.0|0\.9)|status-099)$/,
    node: 'accepts the response (llhttp is also an RTSP/ICE parser, takes any HTTP/x.y and 3-digit status, and reads a CR in the status line as a line end)',
    spear: 'error HPE_* at once',
    why: 'spear speaks HTTP/1.0 and 1.1 to an HTTP server; another protocol, version or a status below 100 means the server is not answering HTTP/1.1 and must not count as a success; a CR that ends no line would hide a header inside the status line',
    allows: (_responseCase, node, spear) => node.kind === 'response' && spear.kind === 'error' && spear.code.startsWith('HPE_'),
  },
  {
    cases: /-(nul|del)-in-value$|^header-bare-cr-between-headers$/,
    node: 'error HPE_INVALID_HEADER_TOKEN / HPE_LF_EXPECTED',
    spear: 'the response: header values other than content-length, transfer-encoding and connection are not checked byte by byte',
    why: 'keeps the per-response cost down (docs/http-client.md); RFC 9110 §5.5 lets a recipient replace CR, LF and NUL in a value with SP and go on',
    allows: (_responseCase, node, spear) => node.kind === 'error' && spear.kind === 'response' && spear.status === 200,
  },
  // Below: where node (llhttp 9.3, Node 20) departs from the RFC and spear does not. Each excuses only
  // spear giving exactly the case's truth.
  {
    cases: /trailing-tab|tabs-around/,
    node: 'takes a trailing HTAB into the field value: content-length fails (HPE_INVALID_CONTENT_LENGTH), transfer-encoding is not chunked (hang), a connection token is not recognized (wrong reuse)',
    spear: "the case's truth: status, wire bytes and reuse",
    why: 'RFC 9110 §5.5: leading and trailing OWS (SP or HTAB) is not part of a field value; llhttp strips a trailing SP but not an HTAB',
    allows: (responseCase, _node, spear) => spearMatches(responseCase, spear),
  },
  {
    cases: /^head-response-close-delimited/,
    node: 'a response to HEAD without content-length or transfer-encoding: node does not reuse the connection',
    spear: 'reuses it',
    why: 'RFC 9112 §6.3: a response to HEAD ends at the empty line after its header fields whatever they say; nothing is framed by the close',
    allows: (responseCase, node, spear) => node.kind === 'response' && node.reused === false && spearMatches(responseCase, spear),
  },
];

/** spear's outcome is exactly the case's truth (status, wire bytes, reuse when the truth says). */
function spearMatches(responseCase: ResponseCase, spear: Outcome): boolean {
  return responseCase.truth !== undefined && truthDifferences('spear', spear, responseCase.truth, true).length === 0;
}

/** A disagreement and the leniency that excuses it, if any. */
interface Judged {
  readonly result: CaseResult;
  readonly found: readonly string[];
  readonly excusedBy: Leniency | undefined;
}

function judge(result: CaseResult): Judged {
  const found = differences(result);
  const excusedBy = found.length === 0 ? undefined : leniencies.find((entry) => entry.cases.test(result.responseCase.name) && entry.allows(result.responseCase, result.node, result.spear));
  return { result, found, excusedBy };
}

function table(judged: readonly Judged[]): string {
  const rows = judged.map(({ result, found }) => [result.responseCase.name, describeOutcome(result.node), describeOutcome(result.spear), found.join('; ')]);
  return formatTable(['case', 'node', 'spear', 'why it differs'], rows, 70);
}

const seed = seedFromEnv();
const generated = 240;
let results: CaseResult[] = [];

before(async () => {
  results = await runDifferential(buildCorpus(seed, generated), { concurrency: 8 });
});

test(`corpus (seed ${seed}): named edge cases and ${generated} generated cases, unique names`, () => {
  const names = results.map((result) => result.responseCase.name);
  assert.equal(new Set(names).size, names.length);
  assert.ok(results.length > generated + 100, `${results.length} cases`);
  for (const result of results) {
    const { truth, bytes, splits } = result.responseCase;
    if (truth !== undefined) assert.ok(truth.wireBytes <= bytes.length, `${result.responseCase.name}: truth beyond the bytes`);
    assert.ok(splits.every((offset, index) => offset > 0 && offset < bytes.length && (index === 0 || offset > splits[index - 1]!)), `${result.responseCase.name}: splits`);
  }
});

test('every leniency entry still matches a case in the corpus', () => {
  for (const entry of leniencies) assert.ok(results.some((result) => entry.cases.test(result.responseCase.name)), `no case for ${String(entry.cases)}`);
});

test('spear never hangs on a connection the server closed or reset', () => {
  const hung = results.filter(spearHangsOnClosedConnection).map((result) => judge(result));
  assert.equal(hung.length, 0, `spear hung after the server closed:\n${table(hung)}`);
});

test('node and spear agree on every generated well-formed case', () => {
  const disagreements = results.filter((result) => result.responseCase.name.startsWith('gen-')).map(judge).filter((judged) => judged.found.length > 0 && judged.excusedBy === undefined);
  assert.equal(disagreements.length, 0, `${disagreements.length} generated cases disagree (seed ${seed}):\n${table(disagreements)}`);
});

test('node and spear agree on every edge case, except as the leniency table allows', (t) => {
  const judged = results.filter((result) => !result.responseCase.name.startsWith('gen-')).map(judge);
  const excused = judged.filter((entry) => entry.excusedBy !== undefined);
  // One diagnostic per line: TAP escapes newlines inside one.
  if (excused.length > 0) for (const line of [`${excused.length} differences the leniency table allows:`, ...table(excused).split('\n')]) t.diagnostic(line);
  const disagreements = judged.filter((entry) => entry.found.length > 0 && entry.excusedBy === undefined);
  assert.equal(disagreements.length, 0, `${disagreements.length} edge cases disagree (seed ${seed}):\n${table(disagreements)}`);
});
