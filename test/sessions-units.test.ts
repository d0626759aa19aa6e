import assert from 'node:assert/strict';
import { test } from 'node:test';
import { BroadcastLedger } from '../src/coordinator/broadcast-ledger.js';
import { SessionRecorder } from '../src/metrics/session-recorder.js';
import { decodeSocketFrame, encodeConnect, encodeEvent, frameArguments, parseHandshake, type SocketFrame } from '../src/protocols/socketio/packets.js';
import { BroadcastTracker, type Member } from '../src/sessions/broadcast-tracker.js';
import { CoordinatorClock } from '../src/sessions/clock.js';
import { compileTemplate, renderTemplate } from '../src/sessions/template.js';
import { targetUsersAt } from '../src/sessions/user-ramp.js';
import { parseThreshold } from '../src/scenarios/threshold.js';

const frame = (): SocketFrame => ({ type: 0, namespace: '/', ackId: -1, event: '', payloadStart: 0 });

test('Socket.IO frames: events, namespaces, acks and binary headers decode without parsing the payload', () => {
  const packet = frame();
  assert.ok(decodeSocketFrame(Buffer.from('42["msg",{"a":1}]'), packet));
  assert.deepEqual([packet.type, packet.namespace, packet.ackId, packet.event], [0x32, '/', -1, 'msg']);
  assert.deepEqual(frameArguments(Buffer.from('42["msg",{"a":1}]'), packet), [{ a: 1 }]);
  assert.ok(decodeSocketFrame(Buffer.from('42/chat,17["say","hi"]'), packet));
  assert.deepEqual([packet.namespace, packet.ackId, packet.event], ['/chat', 17, 'say']);
  assert.ok(decodeSocketFrame(Buffer.from('4312[{"success":true}]'), packet));
  assert.deepEqual([packet.type, packet.ackId], [0x33, 12]);
  assert.deepEqual(frameArguments(Buffer.from('4312[{"success":true}]'), packet), [{ success: true }]);
  assert.ok(decodeSocketFrame(Buffer.from('451-["upload",{"_placeholder":true,"num":0}]'), packet));
  assert.deepEqual([packet.type, packet.event], [0x35, 'upload']);
  assert.ok(decodeSocketFrame(Buffer.from('42["we\\"ird",1]'), packet));
  assert.equal(packet.event, 'we"ird');
  assert.equal(decodeSocketFrame(Buffer.from('42{"no":"array"}'), packet), false);
});

test('Socket.IO encoding and the Engine.IO handshake', () => {
  assert.equal(encodeConnect('/', undefined), '40');
  assert.equal(encodeConnect('/', '{"token":"x"}'), '40{"token":"x"}');
  assert.equal(encodeConnect('/chat', '{"token":"x"}'), '40/chat,{"token":"x"}');
  assert.equal(encodeEvent('/', 'auth', '{"id":1}', -1), '42["auth",{"id":1}]');
  assert.equal(encodeEvent('/chat', 'msg', undefined, 3), '42/chat,3["msg"]');
  assert.deepEqual(parseHandshake('0{"sid":"abc","upgrades":[],"pingInterval":25000,"pingTimeout":20000,"maxPayload":1000000}'), { sid: 'abc', pingIntervalMs: 25000, pingTimeoutMs: 20000 });
  assert.equal(parseHandshake('0not json'), undefined);
  assert.equal(parseHandshake('40'), undefined);
});

test('templates: a whole-string variable keeps its JSON type, a partial one is escaped', () => {
  const values: Record<string, unknown> = { user: 7, token: 'a"b', node: { url: 'ws://x' } };
  const lookup = { variable: (name: string): unknown => (name === 'node.url' ? 'ws://x' : values[name]) };
  const json = compileTemplate(JSON.stringify({ id: '{{user}}', label: 'user-{{user}}', token: '{{token}}', say: 'got {{token}}' }), true);
  assert.deepEqual(JSON.parse(renderTemplate(json, true, lookup)), { id: 7, label: 'user-7', token: 'a"b', say: 'got a"b' });
  assert.equal(renderTemplate(compileTemplate('/ticket?userId={{user}}&u={{ node.url }}', false), false, lookup), '/ticket?userId=7&u=ws://x');
  assert.equal(renderTemplate(compileTemplate('no variables', false), false, lookup), 'no variables');
  assert.equal(renderTemplate(compileTemplate('{"a":"{{missing}}"}', true), true, lookup), '{"a":null}');
});

test('the user ramp reaches each stage target linearly and holds the last', () => {
  const load = { model: 'users' as const, users: 100, stages: [{ durationMs: 1000, users: 100 }, { durationMs: 1000, users: 50 }], holdMs: 1000, durationMs: 3000 };
  assert.equal(targetUsersAt(load, 0), 0);
  assert.equal(targetUsersAt(load, 500), 50);
  assert.equal(targetUsersAt(load, 999), 99);
  assert.equal(targetUsersAt(load, 1000), 100);
  assert.equal(targetUsersAt(load, 1500), 75);
  assert.equal(targetUsersAt(load, 5000), 50);
});

/** A clock a test moves by hand. */
class ManualClock extends CoordinatorClock {
  now = 1_000_000_000;
  override nowUs(): number {
    return this.now;
  }
}

test('broadcast accounting: agents\' receipts and membership give exact expected, lost, late and duplicates', () => {
  // Two agents, one group of 4 users (0..3); agent a holds users a and a+2.
  const clocks = [new ManualClock(), new ManualClock()];
  const recorders = [new SessionRecorder(), new SessionRecorder()];
  const trackers = [0, 1].map((agentId) => new BroadcastTracker({ agentId, agentCount: 2, localUsers: 2, groupSize: 4, timeoutMs: 1000, includeSender: true }, clocks[agentId]!, recorders[agentId]!));
  const members: Member[] = [0, 1, 2, 3].map((index) => ({ index, group: 0, slot: index >> 1, joinedAtUs: 0 }));
  for (const member of members) trackers[member.index % 2]!.joined(member);
  for (const clock of clocks) clock.now += 10_000;
  const stamp = trackers[0]!.stamp(members[0]!);
  const deliver = (member: Member, delayUs: number): boolean => {
    const tracker = member.index % 2;
    clocks[tracker]!.now += delayUs;
    return trackers[tracker]!.receive(Buffer.from(`42["msg",{"content":"${stamp}"}]`), 0, member);
  };
  assert.ok(deliver(members[0]!, 500));
  assert.ok(deliver(members[1]!, 700));
  assert.ok(deliver(members[1]!, 10)); // duplicate
  assert.ok(deliver(members[2]!, 2_000_000)); // late (after the 1 s window)
  // members[3] never gets it: lost.
  assert.equal(trackers[1]!.receive(Buffer.from('42["msg",{"content":"plain"}]'), 0, members[1]!), false);
  const ledger = new BroadcastLedger(true);
  for (const [agentId, tracker] of trackers.entries()) {
    const taken = tracker.takeInterval();
    ledger.add(agentId, { counters: recorders[agentId]!.takeInterval(0, 0, 0).counters, histograms: { connect: '', reply: '', delivery: '' }, ...taken });
  }
  const summary = ledger.summarize();
  assert.deepEqual(
    [summary.sent, summary.expected, summary.delivered, summary.late, summary.lost, summary.duplicated, summary.nonMember],
    [1, 4, 2, 1, 1, 1, 0],
  );
  assert.equal(summary.firstMemberMs.count, 1);
});

test('long-connection thresholds: scoped percentiles and loss shares parse', () => {
  assert.deepEqual(parseThreshold('delivery.p99 < 100ms'), { source: 'delivery.p99 < 100ms', metric: 'p99', scope: 'delivery', operator: '<', value: 100, percent: false });
  assert.deepEqual(parseThreshold('lost < 0.1%'), { source: 'lost < 0.1%', metric: 'lost', scope: 'latency', operator: '<', value: 0.1, percent: true });
  assert.equal(parseThreshold('connect.rps > 5'), 'connect.rps: only percentiles, min, mean and max apply to connect latency');
});
