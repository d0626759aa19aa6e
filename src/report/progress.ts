import { MultiBar, Presets, type SingleBar } from 'cli-progress';
import { transportErrors, badStatuses } from '../metrics/counters.js';
import { saturationOf } from '../metrics/generator-verdict.js';
import type { MergedInterval } from '../metrics/merger.js';
import type { RunEvents } from '../coordinator/run.js';
import { formatDurationMs } from '../scenarios/units.js';
import type { IntervalMessage } from '../wire/messages.js';
import { clip, fitLiveLine, intervalFields, joinFields, wrap, type LineField } from './live-line.js';
import type { RunAbort } from './result.js';

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

/** "[  12s]": when the interval ended, from the start. */
function elapsedLabel(interval: MergedInterval, startAtMs: number): string {
  return `[${((interval.endMs - startAtMs) / 1000).toFixed(0).padStart(4)}s]`;
}

/**
 * Each agent's last report covers only the moments between the last boundary and its finish
 * (often a few milliseconds of drain): shown, it repeats the previous line's second with rates
 * over almost nothing. The summary counts it; the live views skip it.
 */
function isRunoff(interval: MergedInterval, previous: MergedInterval | undefined, startAtMs: number): boolean {
  if (previous === undefined) return false;
  return interval.endMs - interval.startMs < (previous.endMs - previous.startMs) / 2 && elapsedLabel(interval, startAtMs) === elapsedLabel(previous, startAtMs);
}

/** "spear: stopping early after 10.0s (abortOnFail: 10s): no request succeeded: …". */
function abortNote(abort: RunAbort): string {
  return `spear: stopping early after ${(abort.afterMs / 1000).toFixed(1)}s (abortOnFail: ${formatDurationMs(abort.abortOnFailMs)}): ${abort.reason}`;
}

/** "agent 1 late 4s (busy)". */
function lateNote(id: number, lateMs: number): string {
  return `agent ${id} late ${Math.floor(lateMs / 1000)}s (busy)`;
}

class LineProgress implements Progress {
  readonly #stream: NodeJS.WriteStream;
  #startAtMs = 0;
  #previous: MergedInterval | undefined;
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
    const runoff = isRunoff(interval, this.#previous, this.#startAtMs);
    this.#previous = interval;
    if (!runoff) this.#stream.write(`${elapsedLabel(interval, this.#startAtMs)} ${joinFields(intervalFields(interval))}\n`);
  }

  aborted(abort: RunAbort): void {
    this.#stream.write(`${abortNote(abort)}\n`);
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

/**
 * A total bar plus one row per agent (up to 16), redrawn in place. Every row is fitted to the
 * terminal's width when drawn (live-line.ts): wrapping is off while bars show, so the terminal
 * would clip the end of the line, where errors and p99 are.
 */
class BarProgress implements Progress {
  readonly #stream: NodeJS.WriteStream;
  readonly #bars: MultiBar;
  #total: SingleBar | undefined;
  readonly #agents = new Map<number, SingleBar>();
  /** Each agent row's text, drawn (fitted) by its bar's formatter. */
  readonly #agentLines = new Map<number, string>();
  #startAtMs = 0;
  #durationS = 0;
  #ticker: NodeJS.Timeout | undefined;
  /** The last merged interval's fields: lateness notes are appended to them while reports stall. */
  #fields: readonly LineField[] = [{ text: 'starting', drop: 0 }];
  #previous: MergedInterval | undefined;
  readonly #late = new Map<number, number>();

  constructor(stream: NodeJS.WriteStream) {
    this.#stream = stream;
    // Every row brings its own formatter (started()).
    this.#bars = new MultiBar({ stream, hideCursor: true, clearOnComplete: false, format: () => '' }, Presets.shades_classic);
  }

  started(info: { agents: number; startAtMs: number; durationMs: number }): void {
    this.#startAtMs = info.startAtMs;
    this.#durationS = Math.ceil(info.durationMs / 1000);
    this.#total = this.#bars.create(this.#durationS, 0, {}, {
      format: (_options, params) => fitLiveLine(this.#fieldsWithLate(), { elapsedS: params.value, durationS: params.total }, params.maxWidth),
    });
    if (info.agents > 1 && info.agents <= 16) {
      for (let id = 0; id < info.agents; id += 1) {
        this.#agentLines.set(id, `agent ${id}: starting`);
        this.#agents.set(id, this.#bars.create(this.#durationS, 0, {}, { format: (_options, params) => clip(`  ${this.#agentLines.get(id) ?? ''}`, params.maxWidth) }));
      }
    }
    this.#ticker = setInterval(() => this.#total?.update(this.#elapsedS()), 250);
    this.#ticker.unref();
  }

  interval(interval: MergedInterval): void {
    const runoff = isRunoff(interval, this.#previous, this.#startAtMs);
    this.#previous = interval;
    if (runoff) return;
    this.#fields = intervalFields(interval);
    this.#showTotal();
  }

  aborted(abort: RunAbort): void {
    // Wrapping is off while the bars show: a long line would be clipped, so it is broken here.
    this.#bars.log(`${wrap(abortNote(abort), this.#stream.columns || 80).join('\n')}\n`);
  }

  agentInterval(message: IntervalMessage): void {
    const seconds = Math.max(0.001, (message.endMs - message.startMs) / 1000);
    const errors = transportErrors(message.counters) + badStatuses(message.counters);
    const sessions = message.sessions?.counters;
    const why = saturationOf(message.health, message.endMs - message.startMs);
    const busy = why === undefined ? '' : `  SPEAR BUSY: ${why}`;
    if (this.#late.delete(message.agentId)) this.#showTotal();
    if (sessions !== undefined) {
      this.#showAgent(message.agentId, `agent ${message.agentId}: ${sessions.connected} connected, ${(sessions.messagesReceived / seconds).toFixed(0)} msgs/s in, errors ${errors}${busy}`);
      return;
    }
    this.#showAgent(message.agentId, `agent ${message.agentId}: ${(message.counters.requests / seconds).toFixed(0)} req/s, errors ${errors}, conns ${message.counters.connections}${busy}`);
  }

  agentLate(agent: { readonly id: number; readonly lateMs: number }): void {
    if (agent.lateMs < lateShownMs) {
      if (this.#late.delete(agent.id)) this.#showTotal();
      return;
    }
    this.#late.set(agent.id, agent.lateMs);
    this.#showAgent(agent.id, `${lateNote(agent.id, agent.lateMs)}: heartbeats arrive, interval reports lag (not lost)`);
    this.#showTotal();
  }

  agentEnded(agent: { id: number; status: string; reason: string | undefined }): void {
    if (this.#late.delete(agent.id)) this.#showTotal();
    if (agent.status !== 'ok') this.#showAgent(agent.id, `agent ${agent.id}: ${agent.status}: ${agent.reason ?? ''}`);
  }

  close(): void {
    if (this.#ticker !== undefined) clearInterval(this.#ticker);
    this.#total?.update(Math.min(this.#durationS, this.#elapsedS()));
    this.#bars.stop();
  }

  #showAgent(id: number, line: string): void {
    const bar = this.#agents.get(id);
    if (bar === undefined) return;
    this.#agentLines.set(id, line);
    bar.update(0);
  }

  /** The interval's fields, and the late agents last: dropped after the bar, before p99 and errors. */
  #fieldsWithLate(): readonly LineField[] {
    const late = [...this.#late].map(([id, lateMs]) => lateNote(id, lateMs));
    if (late.length === 0) return this.#fields;
    return [...this.#fields, { text: `| ${late.join(', ')}`, short: `| ${late.length} agent${late.length === 1 ? '' : 's'} late`, drop: 1 }];
  }

  #showTotal(): void {
    this.#total?.update(this.#elapsedS());
  }

  #elapsedS(): number {
    return Math.max(0, Math.min(this.#durationS, Math.floor((Date.now() - this.#startAtMs) / 1000)));
  }
}
