import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import { getHeapStatistics } from 'node:v8';
import { ResultReadError, messageOf } from '../errors.js';
import { decodeHistogram } from '../metrics/histogram.js';
import { problemOf } from './file-problem.js';
import { JsonObjectStream } from './json-object-stream.js';
import { readableResultVersions, type RunResult } from './result.js';

/**
 * Heap a parsed result may take per byte of its file, with a margin for the
 * renderers: measured 0.66 for a timeline of per-agent health rows (version
 * 1 at 500 agents) and 1.0 for one of histogram strings (version 2). A file
 * larger than the heap limit / this is refused before it is read, in one
 * line, rather than ending in V8's out-of-memory abort.
 */
const heapPerFileByte = 1.5;

/**
 * Reads a result file written by `writeResult`, streamed (json-object-stream.ts):
 * a file longer than V8's longest string reads back too. Refuses, before
 * reading, a file too large for this process's heap, naming its size and
 * the flag that allows it. Checks the format marker, the version (any of
 * `readableResultVersions`) and the shape every renderer relies on (the
 * top-level sections, decodable run histograms); deeper fields are trusted
 * as spear's own output. Throws ResultReadError, one line naming the file.
 */
export async function readResult(file: string): Promise<RunResult> {
  const raw = await parseFile(file);
  if (raw.format !== 'spear-result') {
    throw new ResultReadError('E_RESULT_READ', `${file} is not a spear result file (no "format": "spear-result")`);
  }
  if (!readableResultVersions.some((version) => version === raw.version)) {
    throw new ResultReadError('E_RESULT_VERSION', `${file} has result format version ${'version' in raw ? String(raw.version) : 'none'}; this spear reads versions ${readableResultVersions.join(' and ')}`);
  }
  const problem = shapeProblem(raw);
  if (problem !== undefined) throw new ResultReadError('E_RESULT_READ', `${file} is damaged or incomplete: ${problem}`);
  return raw as unknown as RunResult;
}

async function parseFile(file: string): Promise<Record<string, unknown>> {
  const cannot = (problem: string): ResultReadError => new ResultReadError('E_RESULT_READ', `cannot read the result ${file}${problem}`);
  let size: number;
  try {
    size = (await stat(file)).size;
  } catch (error) {
    throw cannot(` (${problemOf(error)})`);
  }
  const heapBytes = getHeapStatistics().heap_size_limit;
  if (size * heapPerFileByte > heapBytes) {
    const neededMb = Math.ceil((size * heapPerFileByte) / 1048576 / 1024) * 1024;
    throw cannot(`: it is ${megabytes(size)}, more than this process's ${megabytes(heapBytes)} heap can hold parsed: run it again with NODE_OPTIONS=--max-old-space-size=${neededMb} (MB; needs that much memory)`);
  }
  const parser = new JsonObjectStream();
  try {
    for await (const chunk of createReadStream(file, { highWaterMark: 1 << 20 })) parser.push(chunk as Buffer);
  } catch (error) {
    // V8's own words (and positions) change between Node versions: keep the line stable.
    if (error instanceof SyntaxError) throw cannot(': not valid JSON (cut short, or not a result file)');
    if (error instanceof RangeError) throw cannot(`: one of its parts is longer than the longest string this Node holds (${messageOf(error)})`);
    throw cannot(` (${problemOf(error)})`);
  }
  try {
    return parser.end();
  } catch {
    throw cannot(': not valid JSON (cut short, or not a result file)');
  }
}

function megabytes(bytes: number): string {
  return bytes >= 1 << 30 ? `${(bytes / (1 << 30)).toFixed(1)} GiB` : `${(bytes / (1 << 20)).toFixed(0)} MiB`;
}

/** The first missing or malformed section a renderer would trip on, or undefined. */
function shapeProblem(raw: Record<string, unknown>): string | undefined {
  for (const key of ['scenario', 'summary', 'histograms']) {
    if (!isRecord(raw[key])) return `no "${key}" object`;
  }
  for (const key of ['thresholds', 'timeline', 'agents']) {
    if (!Array.isArray(raw[key])) return `no "${key}" list`;
  }
  const summary = raw.summary as Record<string, unknown>;
  for (const key of ['latencyMs', 'serviceTimeMs', 'errors']) {
    if (!isRecord(summary[key])) return `no "summary.${key}" object`;
  }
  if (raw.requestHistograms !== undefined && !isRecord(raw.requestHistograms)) return 'no "requestHistograms" object';
  for (const [name, encoded] of Object.entries(raw.requestHistograms ?? {})) {
    if (typeof encoded !== 'string') return `"requestHistograms[${JSON.stringify(name)}]" is not a string`;
  }
  for (const [name, encoded] of Object.entries(raw.histograms as Record<string, unknown>)) {
    if (typeof encoded !== 'string') return `"histograms.${name}" is not a string`;
    try {
      decodeHistogram(encoded);
    } catch (error) {
      return `"histograms.${name}" is not an encoded HdrHistogram (${messageOf(error)})`;
    }
  }
  return undefined;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
