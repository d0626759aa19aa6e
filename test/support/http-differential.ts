/**
 * Runs corpus cases through node:http and spear side by side against one raw
 * response server and says where they disagree. The leniency table that
 * excuses deliberate differences lives with the test
 * (test/http-differential.test.ts); this module knows only the strict rules.
 */
import { defaultTiming, describeFirst, fetchCase, type FetchTiming, loadSpear, nodeClient, type Outcome, spearClient } from './http-fetchers.js';
import { startRawResponseServer } from './raw-response-server.js';
import type { ResponseCase, Truth } from './response-primitives.js';

export interface CaseResult {
  readonly index: number;
  readonly responseCase: ResponseCase;
  readonly node: Outcome;
  readonly spear: Outcome;
}

export interface RunOptions {
  /** Cases in flight at once (each runs both clients at the same time). */
  readonly concurrency?: number;
  readonly timing?: FetchTiming;
  /** Called after each case (progress for long runs). */
  readonly onResult?: (result: CaseResult) => void;
}

/** Every case through both clients; results in corpus order. */
export async function runDifferential(cases: readonly ResponseCase[], options: RunOptions = {}): Promise<CaseResult[]> {
  const spear = await loadSpear();
  const server = await startRawResponseServer(cases);
  const results: CaseResult[] = new Array<CaseResult>(cases.length);
  const timing = options.timing ?? defaultTiming;
  let next = 0;
  const worker = async (): Promise<void> => {
    for (let index = next++; index < cases.length; index = next++) {
      const responseCase = cases[index]!;
      const [node, spearOutcome] = await Promise.all([
        fetchCase(server, nodeClient(server.port), responseCase, index, `node-${index}`, timing),
        fetchCase(server, spearClient(spear, server.port), responseCase, index, `spear-${index}`, timing),
      ]);
      const result = { index, responseCase, node, spear: spearOutcome };
      results[index] = result;
      options.onResult?.(result);
    }
  };
  try {
    await Promise.all(Array.from({ length: options.concurrency ?? 8 }, worker));
  } finally {
    await server.close();
  }
  return results;
}

/** One outcome in a table cell: `200 body=2 reused`, `error HPE_INVALID_CONSTANT`, `hang`. */
export function describeOutcome(outcome: Outcome): string {
  const reuse = outcome.reused === undefined ? '' : outcome.reused ? ' reused' : ' not-reused';
  // The probe's expected answer (secondResponse) is left out; anything else is shown.
  const probe = outcome.probe !== undefined && outcome.probe !== '200 body=2' && outcome.probe !== '200 wire=40' ? ` (probe: ${outcome.probe})` : '';
  const connection = outcome.connectionErrors === undefined ? '' : ` [connection: ${outcome.connectionErrors.join(', ')}]`;
  return `${describeFirst(outcome)}${reuse}${probe}${connection}`;
}

/** How `who`'s outcome departs from `truth`; a non-response counts only when `required`. */
export function truthDifferences(who: 'node' | 'spear', outcome: Outcome, truth: Truth, required: boolean): string[] {
  if (outcome.kind !== 'response') return required ? [`${who} gave ${describeFirst(outcome)} where the truth is ${truth.status}`] : [];
  const found: string[] = [];
  if (outcome.status !== truth.status) found.push(`${who} status ${outcome.status}, truth ${truth.status}`);
  if (who === 'node' && outcome.bodyLength !== truth.bodyLength) found.push(`node body ${String(outcome.bodyLength)}, truth ${truth.bodyLength}`);
  if (who === 'spear' && outcome.wireBytes !== truth.wireBytes) found.push(`spear wire bytes ${String(outcome.wireBytes)}, truth ${truth.wireBytes}`);
  if (truth.reusable !== undefined && outcome.reused !== truth.reusable) found.push(`${who} reused ${String(outcome.reused)}, truth ${String(truth.reusable)}`);
  return found;
}

/**
 * Where node and spear disagree on a case, before any leniency: the kind of
 * outcome (response, error, hang), the status of a response, reuse, the
 * outcome of the `/second` probe when both sent it, and, when
 * the case has truth, node's body length, spear's wire bytes and (when the
 * truth says) both clients' reuse against it.
 * Empty when they agree.
 */
export function differences(result: CaseResult): string[] {
  const { node, spear, responseCase } = result;
  const found: string[] = [];
  if (node.kind !== spear.kind) found.push(`kind: node ${node.kind}, spear ${spear.kind}`);
  else if (node.kind === 'response' && spear.kind === 'response' && node.status !== spear.status) found.push(`status: node ${node.status}, spear ${spear.status}`);
  if (node.reused !== spear.reused) found.push(`reuse: node ${String(node.reused)}, spear ${String(spear.reused)}`);
  // A reused connection must answer the probe with the probe's own response, not with leftovers.
  if (node.probe !== undefined && spear.probe !== undefined && probeKind(node.probe) !== probeKind(spear.probe)) found.push(`probe: node ${node.probe}, spear ${spear.probe}`);
  if (responseCase.truth !== undefined) {
    found.push(...truthDifferences('node', node, responseCase.truth, true), ...truthDifferences('spear', spear, responseCase.truth, true));
  }
  if (responseCase.ifResponse !== undefined) {
    found.push(...truthDifferences('node', node, responseCase.ifResponse, false), ...truthDifferences('spear', spear, responseCase.ifResponse, false));
  }
  return found;
}

/** A probe's outcome without its size (node reports the body, spear the wire bytes). */
function probeKind(probe: string): string {
  return probe.replace(/ (body|wire)=\d+$/, '');
}

/** spear completes every exchange on a connection the server closed or reset: it never hangs there. */
export function spearHangsOnClosedConnection(result: CaseResult): boolean {
  return result.responseCase.afterWrite !== 'keep' && result.spear.kind === 'hang';
}

/** A compact fixed-width table; long cells are cut. */
export function formatTable(header: readonly string[], rows: readonly (readonly string[])[], maxWidth = 60): string {
  const cut = (text: string): string => (text.length > maxWidth ? `${text.slice(0, maxWidth - 1)}…` : text);
  const cells = [header, ...rows].map((row) => row.map(cut));
  const widths = header.map((_name, column) => Math.max(...cells.map((row) => (row[column] ?? '').length)));
  return cells.map((row) => row.map((cell, column) => cell.padEnd(widths[column] ?? 0)).join('  ').trimEnd()).join('\n');
}
