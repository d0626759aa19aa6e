import assert from 'node:assert/strict';
import { test } from 'node:test';
import { WireError } from '../src/errors.js';
import { emptySessionCounters } from '../src/metrics/session-recorder.js';
import type { BroadcastReceipt } from '../src/wire/messages.js';
import { sessionReport } from '../src/wire/parse-session-plan.js';
import { ReceiptRows } from '../src/wire/receipt-rows.js';
import { seededRandom } from './support/response-primitives.js';

/** A report's sessions part with `receipts` as given, the rest valid and empty. */
function sessions(receipts: unknown): unknown {
  return { counters: emptySessionCounters(), histograms: { connect: '', reply: '', delivery: '' }, sent: [], receipts, membership: [] };
}

test('receipt rows survive the wire exactly: whole fields up to 2^32-1, µs times past 2^53/2, every row count', () => {
  const rand = seededRandom(13);
  const whole = (): number => Math.floor(rand() * 2 ** 32);
  const rows: BroadcastReceipt[] = [[4_294_967_295, 0, 0, 0, 0, 0, 0, 0, 0, 0, 4_294_967_295], [0, 4_294_967_295, 1, 2, 3, 4, 5, 6, 1_764_547_200_123_456, 2 ** 52 + 1, 7]];
  for (let i = 0; i < 500; i += 1) {
    const firstUs = 1_764_547_200_000_000 + Math.floor(rand() * 1e9);
    rows.push([whole(), whole(), whole(), whole(), whole(), whole(), whole(), whole(), firstUs, firstUs + Math.floor(rand() * 6e6), whole()]);
  }
  // 52-byte rows: 0, 1 and 2 rows past a multiple of 3 end in two, one and no padding characters.
  for (const count of [0, 1, 2, 3, 4, 5, rows.length]) {
    const some = rows.slice(0, count);
    const text = JSON.parse(JSON.stringify({ receipts: ReceiptRows.of(some) })) as { receipts: unknown };
    assert.equal(typeof text.receipts, 'string');
    assert.equal((text.receipts as string).length, Math.ceil((count * 52) / 3) * 4);
    const back = sessionReport(sessions(text.receipts)).receipts;
    assert.equal(back.count, count);
    assert.deepEqual(Array.from({ length: back.count }, (_, index) => back.row(index)), some);
  }
  assert.equal(JSON.stringify(ReceiptRows.of([])), '""');
});

test('malformed receipt rows are a WireError naming the field, never a crash or a wrong count', () => {
  const good = ReceiptRows.of([[1, 2, 3, 0, 0, 0, 0, 0, 10, 20, 0], [1, 3, 3, 0, 0, 0, 0, 0, 10, 20, 0], [1, 4, 3, 0, 0, 0, 0, 0, 10, 20, 0]]).toJSON();
  const nan = Buffer.from(good, 'base64');
  nan.writeDoubleLE(Number.NaN, 8);
  const infinite = Buffer.from(good, 'base64');
  infinite.writeDoubleLE(Number.POSITIVE_INFINITY, 40);
  const shape = 'interval.sessions.receipts: expected base64 of receipt rows, 52 bytes each';
  const cases: [unknown, string][] = [
    [[[1, 2, 3, 0, 0, 0, 0, 0, 10, 20, 0]], shape],
    [42, shape],
    [good.slice(4), shape],
    [good.slice(1), shape],
    [`!${good.slice(1)}`, 'interval.sessions.receipts: not base64'],
    [nan.toString('base64'), 'interval.sessions.receipts: row 1 has a time that is not a finite number'],
    [infinite.toString('base64'), 'interval.sessions.receipts: row 2 has a time that is not a finite number'],
  ];
  for (const [receipts, message] of cases) {
    assert.throws(() => sessionReport(sessions(receipts)), (error: unknown) => error instanceof WireError && error.message === message, JSON.stringify(receipts).slice(0, 40));
  }
  assert.throws(() => ReceiptRows.of([[-1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0]]).toJSON(), RangeError);
  assert.throws(() => ReceiptRows.of([[0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 2 ** 32]]).toJSON(), RangeError);
});
