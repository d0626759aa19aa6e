import assert from 'node:assert/strict';
import { join } from 'node:path';
import { test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { readResult } from '../src/report/result-file.js';
import { cleanLeftovers, countingServerScript, createNetwork, netnsUnavailable, receivedByAddress, spawnInNamespace, type Host, type NetnsProcess, type TestNetwork } from './support/netns.js';
import { spearBin, tempDir } from './support/spear.js';

// Real hosts, simulated: a target, two agent hosts and the coordinator, each
// in its own network namespace, joined by a bridge. Needs root and iproute2
// (CI has both); skipped with the reason anywhere else.

const token = 'multi-host-token-5c1e';
const agentPort = 7070;
const targetPort = 8080;
const unavailable = netnsUnavailable();

/** `promise`'s value, or `late` if it takes longer than `ms` (the timer never outlives the wait). */
async function within<T>(promise: Promise<T>, ms: number, late: string): Promise<T | string> {
  let timer: NodeJS.Timeout | undefined;
  try {
    return await Promise.race([promise, new Promise<string>((resolve) => {
      timer = setTimeout(() => resolve(late), ms);
    })]);
  } finally {
    clearTimeout(timer);
  }
}

/** Stops every process still running, last started first; never throws. */
async function stopAll(processes: readonly NetnsProcess[]): Promise<void> {
  for (const each of [...processes].reverse()) await each.stop().catch(() => undefined);
}

interface Agent {
  readonly host: Host;
  readonly process: NetnsProcess;
}

/** Starts the counting target and `spear agent --listen <ip>:7070` on each agent host; waits until all listen. */
async function startHosts(network: TestNetwork, agentHosts: readonly string[], processes: NetnsProcess[]): Promise<{ target: NetnsProcess; agents: Agent[] }> {
  const targetHost = network.host('target');
  const target = spawnInNamespace(targetHost.namespace, ['-e', countingServerScript, targetHost.address, String(targetPort)]);
  processes.push(target);
  await target.waitFor(/^listening on /m, 10_000);
  const agents = agentHosts.map((name) => {
    const host = network.host(name);
    const agent = spawnInNamespace(host.namespace, [spearBin, 'agent', '--listen', `${host.address}:${agentPort}`, '--token', token]);
    processes.push(agent);
    return { host, process: agent };
  });
  for (const { host, process } of agents) await process.waitFor(new RegExp(`spear agent listening on ws://${escape(host.address)}:${agentPort}`), 10_000);
  return { target, agents };
}

function escape(text: string): string {
  return text.replaceAll('.', '\\.');
}

test('an agent host cut off the network mid-run: the run completes partial, the cut agent lost, the survivor\'s numbers intact', { skip: unavailable === undefined ? false : `multi-host test skipped: ${unavailable}`, timeout: 60_000 }, async (context) => {
  cleanLeftovers();
  const dir = await tempDir();
  const processes: NetnsProcess[] = [];
  let network: TestNetwork | undefined;
  try {
    network = createNetwork(['target', 'a0', 'a1', 'coord']);
    const { target, agents } = await startHosts(network, ['a0', 'a1'], processes);
    const out = join(dir.path, 'multi-host.json');
    // Line progress instead of --quiet: a "[   2s]" line is printed once every agent has reported its second interval.
    const coordinator = spawnInNamespace(network.host('coord').namespace, [
      spearBin, 'run', '--target', `http://${network.host('target').address}:${targetPort}`, '-c', '8', '-d', '10s',
      ...agents.flatMap(({ host }) => ['--agent', `${host.address}:${agentPort}`]), '--token', token, '--progress', 'lines', '--out', out,
    ]);
    processes.push(coordinator);
    await target.waitFor(/^first request$/m, 60_000);
    const loadStartedAt = Date.now();
    // Cut once both agents have reported two intervals, not a fixed 2.5 s after the first request: on a
    // loaded host that sleep could end past the 3 s the timeline check below assumed (or before a1 reported).
    await until(() => coordinator.stderr(), /^\[ +2s\] /m, 30_000);
    network.cut('a1');
    const cutAt = Date.now();
    const code = await within(coordinator.exited, 25_000, 'still running 25 s after the cut');
    const exitedAt = Date.now();
    await target.stop();
    const received = receivedByAddress(target.stdout());
    context.diagnostic(`load started → cut ${cutAt - loadStartedAt} ms; cut → coordinator exit ${exitedAt - cutAt} ms; target received ${JSON.stringify([...received ?? []])}`);
    context.diagnostic(`coordinator stderr: ${coordinator.stderr().trim() || '(none)'}`);
    context.diagnostic(`cut agent stderr: ${agents[1]!.process.stderr().trim() || '(none)'}`);

    assert.equal(code, 5, `spear run should exit 5 (an agent lost); stderr: ${coordinator.stderr()}`);
    const result = await readResult(out);
    const startedAt = Date.parse(result.startedAt);
    context.diagnostic(`agents: ${JSON.stringify(result.agents.map(({ status, reason, requests, connections }) => ({ status, reason, requests, connections })))}; summary.requests ${result.summary.requests}; durationS ${result.summary.durationS}`);
    context.diagnostic(`timeline (s: agents/requests): ${result.timeline.map((interval) => `${Math.round((interval.startMs - startedAt) / 1000)}: ${interval.agents}/${interval.requests}`).join(', ')}`);
    assert.equal(result.partial, true);
    assert.deepEqual(result.agents.map((agent) => agent.status), ['ok', 'lost']);
    const [survivor, cut] = [result.agents[0]!, result.agents[1]!];
    assert.match(cut.reason ?? '', new RegExp(`^agent 1 \\(${escape(agents[1]!.host.address)}:${agentPort}\\): `));
    assert.equal(survivor.reason, undefined);
    assert.ok(survivor.requests > 0, 'the survivor reported requests');
    assert.ok(cut.requests > 0, 'the cut agent reported its intervals before the cut');
    assert.ok(result.summary.requests >= survivor.requests, `total ${result.summary.requests} < survivor's ${survivor.requests}`);
    assert.equal(result.summary.requests, survivor.requests + cut.requests, 'the total is the sum of what the agents reported');
    // The cut agent's numbers stop at its last report; the survivor's run to the end.
    assert.ok(result.summary.durationS >= 10, `durationS ${result.summary.durationS}`);
    // Same host clock for the test and the coordinator (namespaces share it): an interval begun after the cut ends after it.
    const afterCut = result.timeline.filter((interval) => interval.startMs >= cutAt);
    assert.ok(afterCut.length > 0, 'intervals after the cut');
    assert.ok(afterCut.every((interval) => interval.agents === 1), 'no report from the cut agent after the cut');
    const late = result.timeline.filter((interval) => interval.startMs - startedAt >= 7000);
    assert.ok(late.length > 0 && late.every((interval) => interval.requests > 0), 'the survivor kept reporting load after the cut, to the end');
    // What the agents reported, the target received from their addresses; the survivor drained at the end, so its count is exact.
    assert.ok(received !== undefined, `the target printed its counts: ${target.stdout()}`);
    const [survivorGot, cutGot] = agents.map(({ host }) => received.get(host.address) ?? 0);
    assert.equal(survivorGot, survivor.requests, `target received ${survivorGot} from the survivor, which reported ${survivor.requests}`);
    assert.ok(cutGot! >= cut.requests, `target received ${cutGot} from the cut agent, which reported ${cut.requests}`);
  } finally {
    await stopAll(processes);
    network?.destroy();
    await dir.cleanup();
  }
});

/** Resolves once `read()` matches `pattern`, polling; rejects after `timeoutMs`. */
async function until(read: () => string, pattern: RegExp, timeoutMs: number): Promise<void> {
  for (let waited = 0; !pattern.test(read()); waited += 100) {
    if (waited > timeoutMs) throw new Error(`no ${String(pattern)} within ${timeoutMs} ms in: ${read()}`);
    await sleep(100);
  }
}

test('dial-in agents on two hosts join a listening coordinator; cut off mid-run, it is missed within seconds', { skip: unavailable === undefined ? false : `multi-host test skipped: ${unavailable}`, timeout: 90_000 }, async (context) => {
  cleanLeftovers();
  const dir = await tempDir();
  const processes: NetnsProcess[] = [];
  let network: TestNetwork | undefined;
  try {
    network = createNetwork(['target', 'a0', 'a1', 'coord']);
    const targetHost = network.host('target');
    const coord = network.host('coord');
    const startTarget = async (): Promise<NetnsProcess> => {
      const target = spawnInNamespace(targetHost.namespace, ['-e', countingServerScript, targetHost.address, String(targetPort)]);
      processes.push(target);
      await target.waitFor(/^listening on /m, 10_000);
      return target;
    };
    const startCoordinator = (args: readonly string[]): NetnsProcess => {
      const coordinator = spawnInNamespace(coord.namespace, [
        spearBin, 'run', '--target', `http://${targetHost.address}:${targetPort}`, '--listen', `${coord.address}:${agentPort}`, '--expect-agents', '2', '--token', token, '--quiet', ...args,
      ]);
      processes.push(coordinator);
      return coordinator;
    };
    let target = await startTarget();
    const out = join(dir.path, 'dial-in.json');
    const first = startCoordinator(['-c', '4', '-d', '2s', '--out', out]);
    const agents = ['a0', 'a1'].map((name) => {
      const host = network!.host(name);
      const agent = spawnInNamespace(host.namespace, [spearBin, 'agent', '--join', `ws://${coord.address}:${agentPort}`, '--token', token]);
      processes.push(agent);
      return { host, process: agent };
    });
    const code = await within(first.exited, 40_000, 'still running 40 s after the start');
    assert.equal(code, 0, `spear run should exit 0; stderr: ${first.stderr()}; agents: ${agents.map(({ process }) => process.stderr()).join('')}`);
    await target.stop();
    const received = receivedByAddress(target.stdout());
    assert.ok(received !== undefined, `the target printed its counts: ${target.stdout()}`);
    const result = await readResult(out);
    // Each agent's row names the host it joined from, and the target got from that host exactly what the agent reported.
    for (const { host } of agents) {
      const row = result.agents.find((agent) => agent.address?.startsWith(`${host.address}:`));
      assert.ok(row !== undefined, `a result row joined from ${host.address}: ${JSON.stringify(result.agents.map((agent) => agent.address))}`);
      assert.equal(received.get(host.address), row.requests, `target received ${received.get(host.address)} from ${host.address}, which reported ${row.requests}`);
    }

    // The same agents join the next run; the coordinator's host is cut off mid-run: no FIN, only silence.
    target = await startTarget();
    startCoordinator(['-c', '4', '-d', '60s']);
    await target.waitFor(/^first request$/m, 20_000);
    await sleep(1500);
    network.cut('coord');
    const cutAt = Date.now();
    for (const { process } of agents) await until(() => process.stderr(), /left coordinator .*\(no answer to pings for 5s\); joining again/, 10_000);
    context.diagnostic(`cut → both agents stopped their load and left: ${Date.now() - cutAt} ms`);
    assert.ok(Date.now() - cutAt < 8000, 'the dead-man switch fired within the 5 s ping window (plus slack)');
  } finally {
    await stopAll(processes);
    network?.destroy();
    await dir.cleanup();
  }
});
