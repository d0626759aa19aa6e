/**
 * Parsers for the human units a scenario uses: durations ("20s", "1m30s",
 * "250ms") and rates ("5000/s", "300/m"). Each returns undefined on bad
 * input so the caller can name the YAML path in its error.
 */

/**
 * The longest duration a scenario may give, and the longest run: 500 h.
 * Node's timers fire at once past 2^31 − 1 ms (~596 h); the margin covers
 * the drain and guards spear adds to a run's length.
 */
export const maxDurationMs = 500 * 3_600_000;

/**
 * The longest timeout or delay (`timeouts.*`, `load.maxDelay`,
 * `broadcast.timeout`, `expect.timeout`, `reconnect.*`): 24 h. Agents add
 * two of them into one timer (a drain bound), which must stay below 2^31 ms.
 */
export const maxTimeoutMs = 24 * 3_600_000;

/** The shortest report interval: every interval costs each agent a report and the coordinator a merge and a progress line. */
export const minIntervalMs = 100;

/**
 * The highest arrival rate (open model, for the whole run): 10,000,000/s,
 * also what an agent accepts in a plan (src/wire/limits.ts). Keeps the
 * arrivals of the longest run (1.8·10^13) exact integers, far below 2^53.
 */
export const maxRatePerS = 10_000_000;

const durationUnitsMs: Record<string, number> = {
  us: 0.001,
  µs: 0.001,
  ms: 1,
  s: 1000,
  m: 60_000,
  h: 3_600_000,
};

const durationPart = /(\d+(?:\.\d+)?)(us|µs|ms|s|m|h)/y;

/** Parses "1m30s", "250ms", "2.5s" into milliseconds; a bare number is seconds. */
export function parseDurationMs(text: string | number): number | undefined {
  if (typeof text === 'number') return Number.isFinite(text) && text >= 0 ? text * 1000 : undefined;
  const trimmed = text.trim();
  if (/^\d+(\.\d+)?$/.test(trimmed)) return Number(trimmed) * 1000;
  if (trimmed === '') return undefined;
  let total = 0;
  durationPart.lastIndex = 0;
  while (durationPart.lastIndex < trimmed.length) {
    const start = durationPart.lastIndex;
    const match = durationPart.exec(trimmed);
    if (match === null || match.index !== start) return undefined;
    const unit = durationUnitsMs[match[2] ?? ''];
    if (unit === undefined) return undefined;
    total += Number(match[1]) * unit;
  }
  return total;
}

const ratePattern = /^\s*(\d+(?:\.\d+)?)\s*\/\s*(s|sec|m|min|h)\s*$/;
const ratePeriodS: Record<string, number> = { s: 1, sec: 1, m: 60, min: 60, h: 3600 };

/** Parses "5000/s", "300/m" into arrivals per second. */
export function parseRatePerS(text: string | number): number | undefined {
  if (typeof text === 'number') return undefined;
  const match = ratePattern.exec(text);
  if (match === null) return undefined;
  const period = ratePeriodS[match[2] ?? ''];
  if (period === undefined) return undefined;
  return Number(match[1]) / period;
}

/** Formats milliseconds the way a user would type them: "20s", "1m30s", "250ms", "2h15m". */
export function formatDurationMs(ms: number): string {
  if (!Number.isFinite(ms)) return 'forever';
  if (ms < 1000) return `${round(ms, 3)}ms`;
  if (ms < 60_000) return `${round(ms / 1000, 3)}s`;
  if (ms >= 3_600_000) {
    const hours = Math.floor(ms / 3_600_000);
    const rest = ms - hours * 3_600_000;
    return rest === 0 ? `${hours}h` : `${hours}h${formatDurationMs(rest)}`;
  }
  const minutes = Math.floor(ms / 60_000);
  const rest = ms - minutes * 60_000;
  return rest === 0 ? `${minutes}m` : `${minutes}m${round(rest / 1000, 3)}s`;
}

function round(value: number, digits: number): number {
  const scale = 10 ** digits;
  return Math.round(value * scale) / scale;
}
