import { badStatuses, transportErrors } from '../metrics/counters.js';
import { intervalSaturation, type AgentIntervalHealth } from '../metrics/generator-verdict.js';
import type { MergedInterval } from '../metrics/merger.js';
import { formatMs } from './text-summary.js';

/**
 * One piece of a live progress line. `drop` orders what goes when the line
 * is too wide for the terminal: the highest first; 0 never goes (only the
 * final cut can clip it). A field with a `short` form is shortened at its
 * turn instead of dropped.
 */
export interface LineField {
  readonly text: string;
  readonly drop: number;
  readonly short?: string | undefined;
  /** Put before the field; default two spaces. */
  readonly glue?: string | undefined;
}

/** The fields of a merged interval: throughput, p99 and errors stay longest. Pure. */
export function intervalFields(interval: MergedInterval): LineField[] {
  const counters = interval.counters;
  const seconds = Math.max(0.001, (interval.endMs - interval.startMs) / 1000);
  const errors = transportErrors(counters) + badStatuses(counters);
  const fields: LineField[] = [];
  const sessions = interval.sessions;
  if (sessions !== undefined) {
    fields.push({ text: `users ${String(sessions.connected).padStart(6)} connected`, drop: 0 });
    fields.push({ text: `${sessions.joined} joined`, drop: 3, glue: ', ' });
    fields.push({ text: `msgs in ${(sessions.messagesReceived / seconds).toFixed(0)}/s`, drop: 4 });
    fields.push({ text: `deliveries ${(sessions.delivered / seconds).toFixed(0)}/s`, drop: 5 });
    fields.push({ text: `errors ${errors}`, drop: 0 });
    if (sessions.disconnects + sessions.failed > 0) {
      fields.push({ text: `dropped ${sessions.disconnects}`, drop: 2 });
      fields.push({ text: `failed ${sessions.failed}`, drop: 1 });
      fields.push({ text: `reconnected ${sessions.reconnects}`, drop: 6 });
    }
  } else {
    fields.push({ text: `${(counters.requests / seconds).toFixed(0).padStart(7)} req/s`, drop: 0, glue: '' });
    fields.push({ text: `p50 ${formatMs(interval.latencyMs.p50)}`, drop: 4 });
    fields.push({ text: `p99 ${formatMs(interval.latencyMs.p99)}`, drop: 0 });
    fields.push({ text: `errors ${errors}`, drop: 0 });
    if (counters.dropped > 0) fields.push({ text: `dropped ${counters.dropped}`, drop: 2 });
    fields.push({ text: `conns ${counters.connections}`, drop: 5 });
    fields.push({ text: `in flight ${counters.inFlight}`, drop: 6 });
  }
  const busy = busyField(interval.health);
  if (busy !== undefined) fields.push(busy);
  return fields;
}

/** "SPEAR BUSY: agent 1 load-loop delay p99 120 ms > 50 ms; …", short "SPEAR BUSY: agents 1, 2"; undefined when every agent kept up. */
function busyField(health: readonly AgentIntervalHealth[] | undefined): LineField | undefined {
  const busy = (health ?? []).flatMap((each) => {
    const why = intervalSaturation(each);
    return why === undefined ? [] : [{ agent: each.agent, why }];
  });
  if (busy.length === 0) return undefined;
  return {
    text: `SPEAR BUSY: ${busy.map(({ agent, why }) => `agent ${agent} ${why}`).join('; ')}`,
    short: `SPEAR BUSY: agent${busy.length === 1 ? '' : 's'} ${busy.map(({ agent }) => agent).join(', ')}`,
    // Shortened (never dropped) once p50 is gone: which agents were busy matters more than why.
    drop: 3,
  };
}

/** The fields as one line (the `lines` view prints them whole). */
export function joinFields(fields: readonly LineField[]): string {
  return fields.map((field, index) => `${index === 0 ? '' : field.glue ?? '  '}${field.text}`).join('');
}

const maxBarWidth = 30;
const minBarWidth = 10;
/** Fields whose `drop` is above this (conns, in flight, reconnects, delivery rate) give way before the bar. */
const barRank = 4;

/**
 * The terminal view's line, `[bar] elapsed/totals fields`, in at most
 * `width` columns (cli-progress turns wrapping off, so a terminal would
 * clip the end of the line, where errors and p99 are): the minor gauges
 * go first, then the bar, then the other fields by `drop`; a line still
 * too wide is cut with "…". Pure.
 */
export function fitLiveLine(fields: readonly LineField[], clock: { readonly elapsedS: number; readonly durationS: number }, width: number): string {
  const head = `${clock.elapsedS}/${clock.durationS}s`;
  let kept = [...fields];
  const line = (): string => (kept.length === 0 ? head : `${head} ${joinFields(kept).trimStart()}`);
  const withBar = (): string | undefined => {
    const room = width - line().length - 1;
    return room < minBarWidth ? undefined : `${bar(clock.elapsedS / Math.max(1, clock.durationS), Math.min(maxBarWidth, room))} ${line()}`;
  };
  const ranks = [...new Set(kept.map((field) => field.drop).filter((drop) => drop > 0))].sort((a, b) => b - a);
  for (const rank of ranks.filter((each) => each > barRank)) {
    const fitted = withBar();
    if (fitted !== undefined) return fitted;
    kept = without(kept, rank);
  }
  const fitted = withBar();
  if (fitted !== undefined) return fitted;
  for (const rank of ranks.filter((each) => each <= barRank)) {
    if (line().length <= width) break;
    kept = without(kept, rank);
  }
  return clip(line(), width);
}

/** The fields of `rank` shortened, or dropped when they have no short form. */
function without(fields: readonly LineField[], rank: number): LineField[] {
  return fields.flatMap((field) => {
    if (field.drop !== rank) return [field];
    return field.short === undefined ? [] : [{ ...field, text: field.short, short: undefined }];
  });
}

/** `text` broken at spaces into lines of at most `width` columns (a longer word gets a line of its own). */
export function wrap(text: string, width: number): string[] {
  const lines: string[] = [];
  let line = '';
  for (const word of text.split(' ')) {
    if (line !== '' && line.length + 1 + word.length > width) {
      lines.push(line);
      line = word;
    } else {
      line = line === '' ? word : `${line} ${word}`;
    }
  }
  lines.push(line);
  return lines;
}

/** `text` in at most `width` columns, cut with "…". */
export function clip(text: string, width: number): string {
  return text.length <= width ? text : `${text.slice(0, Math.max(0, width - 1))}…`;
}

function bar(progress: number, width: number): string {
  const done = Math.round(Math.min(1, Math.max(0, progress)) * width);
  return `${'█'.repeat(done)}${'░'.repeat(width - done)}`;
}
