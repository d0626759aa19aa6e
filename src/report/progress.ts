import { MultiBar, Presets, type SingleBar } from 'cli-progress';
import { transportErrors, badStatuses } from '../metrics/counters.js';
import { intervalSaturation, saturationOf, type AgentIntervalHealth } from '../metrics/generator-verdict.js';
import type { MergedInterval } from '../metrics/merger.js';
import type { RunEvents } from '../coordinator/run.js';
import type { IntervalMessage } from '../wire/messages.js';
import { formatMs } from './text-summary.js';

export type ProgressMode = 'tty' | 'lines' | 'quiet';

/** A live view of a run. It only listens to run events; it never drives the run. */
export interface Progress extends Partial<RunEvents> {
  close(): void;
}

/** Lateness below this is the ordinary jitter of a report in transit. */
const lateShownMs = 1000;

/** Picks the view: bars on a terminal, one line per interval otherwise, nothing with --quiet. */
export function createProgress(mode: ProgressMode, stream: NodeJS.WriteStream = process.stderr): Progress {
  if (mode === 'quiet') return { close: () => undefined };
  if (mode === 'lines') return new LineProgress(stream);
  return new BarProgress(stream);
}

function describeInterval(interval: MergedInterval, elapsedS: number): string {
  const counters = interval.counters;
  const seconds = Math.max(0.001, (interval.endMs - interval.startMs) / 1000);
  const errors = transportErrors(counters) + badStatuses(counters);
  const dropped = counters.dropped > 0 ? `  dropped ${counters.dropped}` : '';
  const sessions = interval.sessions;
  if (sessions !== undefined) {
    const churn = sessions.disconnects + sessions.failed > 0 ? `  dropped ${sessions.disconnects}  failed ${sessions.failed}  reconnected ${sessions.reconnects}` : '';
    return `[${elapsedS.toFixed(0).padStart(4)}s] users ${String(sessions.connected).padStart(6)} connected, ${sessions.joined} joined  msgs in ${(sessions.messagesReceived / seconds).toFixed(0)}/s  deliveries ${(sessions.delivered / seconds).toFixed(0)}/s  errors ${errors}${churn}`;
  }
  return `[${elapsedS.toFixed(0).padStart(4)}s] ${(counters.requests / seconds).toFixed(0).padStart(7)} req/s  p50 ${formatMs(interval.latencyMs.p50)}  p99 ${formatMs(interval.latencyMs.p99)}  errors ${errors}${dropped}  conns ${counters.connections}  in flight ${counters.inFlight}`;
}

/** The interval line plus, when an agent was saturated in it, who and why: those numbers are partly spear's. */
function describeWithHealth(interval: MergedInterval, elapsedS: number): string {
  return `${describeInterval(interval, elapsedS)}${busyNote(interval.health)}`;
}

/** "  SPEAR BUSY: agent 1 load-loop delay p99 120 ms > 50 ms", or "" when every agent kept up. */
function busyNote(health: readonly AgentIntervalHealth[] | undefined): string {
  const busy = (health ?? []).flatMap((each) => {
    const why = intervalSaturation(each);
    return why === undefined ? [] : [`agent ${each.agent} ${why}`];
  });
  return busy.length === 0 ? '' : `  SPEAR BUSY: ${busy.join('; ')}`;
}

/** "agent 1 late 4s (busy)". */
function lateNote(id: number, lateMs: number): string {
  return `agent ${id} late ${Math.floor(lateMs / 1000)}s (busy)`;
}

class LineProgress implements Progress {
  readonly #stream: NodeJS.WriteStream;
  #startAtMs = 0;
  /** Late agents: the lateness last printed (whole seconds; a stall prints at 1, 2, 4, 8… s, not every heartbeat) and the most seen. */
  readonly #late = new Map<number, { printedS: number; maxMs: number }>();

  constructor(stream: NodeJS.WriteStream) {
    this.#stream = stream;
  }

  started(info: { agents: number; startAtMs: number; durationMs: number }): void {
    this.#startAtMs = info.startAtMs;
    this.#stream.write(`spear: ${info.agents} agent${info.agents === 1 ? '' : 's'} started, running for ${(info.durationMs / 1000).toFixed(1)}s\n`);
  }

  interval(interval: MergedInterval): void {
    this.#stream.write(`${describeWithHealth(interval, (interval.endMs - this.#startAtMs) / 1000)}\n`);
  }

  agentInterval(message: IntervalMessage): void {
    this.agentLate({ id: message.agentId, lateMs: 0 });
  }

  agentLate(agent: { readonly id: number; readonly lateMs: number }): void {
    const shown = this.#late.get(agent.id);
    if (agent.lateMs < lateShownMs) {
      if (shown !== undefined) this.#stream.write(`spear: agent ${agent.id} caught up (its reports ran up to ${(shown.maxMs / 1000).toFixed(1)}s late)\n`);
      this.#late.delete(agent.id);
      return;
    }
    const seconds = Math.floor(agent.lateMs / 1000);
    const maxMs = Math.max(agent.lateMs, shown?.maxMs ?? 0);
    if (shown !== undefined && seconds < 2 * shown.printedS) {
      shown.maxMs = maxMs;
      return;
    }
    this.#late.set(agent.id, { printedS: seconds, maxMs });
    this.#stream.write(`spear: ${lateNote(agent.id, agent.lateMs)}: its heartbeats arrive but its interval reports do not; not lost, its numbers are merged when they come\n`);
  }

  agentEnded(agent: { id: number; status: string; reason: string | undefined }): void {
    this.#late.delete(agent.id);
    if (agent.status !== 'ok') this.#stream.write(`spear: agent ${agent.id} ${agent.status}: ${agent.reason ?? ''}\n`);
  }

  close(): void {}
}

/** A total bar plus one row per agent (up to 16), redrawn in place. */
class BarProgress implements Progress {
  readonly #bars: MultiBar;
  #total: SingleBar | undefined;
  readonly #agents = new Map<number, SingleBar>();
  #startAtMs = 0;
  #durationS = 0;
  #ticker: NodeJS.Timeout | undefined;
  /** The last merged interval's line: lateness notes are appended to it while reports stall. */
  #line = 'starting';
  readonly #late = new Map<number, number>();

  constructor(stream: NodeJS.WriteStream) {
    this.#bars = new MultiBar({ stream, hideCursor: true, clearOnComplete: false, format: '{bar} {value}/{total}s {line}' }, Presets.shades_classic);
  }

  started(info: { agents: number; startAtMs: number; durationMs: number }): void {
    this.#startAtMs = info.startAtMs;
    this.#durationS = Math.ceil(info.durationMs / 1000);
    this.#total = this.#bars.create(this.#durationS, 0, { line: this.#line });
    if (info.agents > 1 && info.agents <= 16) {
      for (let id = 0; id < info.agents; id += 1) {
        this.#agents.set(id, this.#bars.create(this.#durationS, 0, { line: `agent ${id}: starting` }, { format: '  {line}' }));
      }
    }
    this.#ticker = setInterval(() => this.#total?.update(this.#elapsedS()), 250);
    this.#ticker.unref();
  }

  interval(interval: MergedInterval): void {
    this.#line = describeWithHealth(interval, (interval.endMs - this.#startAtMs) / 1000);
    this.#showTotal();
  }

  agentInterval(message: IntervalMessage): void {
    const seconds = Math.max(0.001, (message.endMs - message.startMs) / 1000);
    const errors = transportErrors(message.counters) + badStatuses(message.counters);
    const sessions = message.sessions?.counters;
    const why = saturationOf(message.health, message.endMs - message.startMs);
    const busy = why === undefined ? '' : `  SPEAR BUSY: ${why}`;
    if (this.#late.delete(message.agentId)) this.#showTotal();
    if (sessions !== undefined) {
      this.#agents.get(message.agentId)?.update(0, { line: `agent ${message.agentId}: ${sessions.connected} connected, ${(sessions.messagesReceived / seconds).toFixed(0)} msgs/s in, errors ${errors}${busy}` });
      return;
    }
    this.#agents.get(message.agentId)?.update(0, { line: `agent ${message.agentId}: ${(message.counters.requests / seconds).toFixed(0)} req/s, errors ${errors}, conns ${message.counters.connections}${busy}` });
  }

  agentLate(agent: { readonly id: number; readonly lateMs: number }): void {
    if (agent.lateMs < lateShownMs) {
      if (this.#late.delete(agent.id)) this.#showTotal();
      return;
    }
    this.#late.set(agent.id, agent.lateMs);
    this.#agents.get(agent.id)?.update(0, { line: `${lateNote(agent.id, agent.lateMs)}: heartbeats arrive, interval reports lag (not lost)` });
    this.#showTotal();
  }

  agentEnded(agent: { id: number; status: string; reason: string | undefined }): void {
    if (this.#late.delete(agent.id)) this.#showTotal();
    if (agent.status !== 'ok') this.#agents.get(agent.id)?.update(0, { line: `agent ${agent.id}: ${agent.status}: ${agent.reason ?? ''}` });
  }

  close(): void {
    if (this.#ticker !== undefined) clearInterval(this.#ticker);
    this.#total?.update(Math.min(this.#durationS, this.#elapsedS()));
    this.#bars.stop();
  }

  #showTotal(): void {
    const late = [...this.#late].map(([id, lateMs]) => lateNote(id, lateMs));
    this.#total?.update(this.#elapsedS(), { line: late.length === 0 ? this.#line : `${this.#line}  | ${late.join(', ')}` });
  }

  #elapsedS(): number {
    return Math.max(0, Math.min(this.#durationS, Math.floor((Date.now() - this.#startAtMs) / 1000)));
  }
}
