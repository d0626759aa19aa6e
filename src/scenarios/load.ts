import { applyRequestFlags, type RequestFlags } from './request-flags.js';
import { readFile } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';
import { isAlias, isMap, isNode, LineCounter, parseDocument, visit, type Document, type Node } from 'yaml';
import { ScenarioError, messageOf } from '../errors.js';
import { Checker, type DocPath, type Locate } from './checker.js';
import { variablesIn } from '../sessions/template.js';
import { readFeeder } from './feeder-file.js';
import { substituteEnvironment } from './env-substitution.js';
import { validateScenario } from './validate.js';
import type { Scenario } from './scenario.js';

/**
 * Command-line values that replace the file's (wrk-style one-liners set
 * them with no file at all). Raw strings: validated like file values.
 */
export interface ScenarioOverrides {
  readonly target?: string | undefined;
  readonly connections?: string | undefined;
  readonly users?: string | undefined;
  readonly connectRate?: string | undefined;
  readonly duration?: string | undefined;
  readonly rate?: string | undefined;
  readonly pipelining?: string | undefined;
  readonly agents?: string | undefined;
  readonly interval?: string | undefined;
  readonly timeout?: string | undefined;
  /** A duration, or "off". */
  readonly abortOnFail?: string | undefined;
  /** -m, -H, -b/--body-file, --content-type: see request-flags.ts. */
  readonly request?: RequestFlags | undefined;
}

/** Where each override lands in the document, and the flag that set it. */
const overridePaths: Record<Exclude<keyof ScenarioOverrides, 'request'>, { path: DocPath; flag: string; integer: boolean }> = {
  target: { path: ['target'], flag: '--target', integer: false },
  connections: { path: ['load', 'connections'], flag: '--connections', integer: true },
  users: { path: ['load', 'users'], flag: '--users', integer: true },
  connectRate: { path: ['load', 'connectRate'], flag: '--connect-rate', integer: false },
  duration: { path: ['duration'], flag: '--duration', integer: false },
  rate: { path: ['load', 'rate'], flag: '--rate', integer: false },
  pipelining: { path: ['load', 'pipelining'], flag: '--pipelining', integer: true },
  agents: { path: ['agents'], flag: '--agents', integer: true },
  interval: { path: ['interval'], flag: '--interval', integer: false },
  timeout: { path: ['timeouts', 'request'], flag: '--timeout', integer: false },
  abortOnFail: { path: ['abortOnFail'], flag: '--abort-on-fail', integer: false },
};

/**
 * Reads a scenario file, resolves its `${VAR}`s from the environment
 * (env-substitution.ts), parses and validates it, then applies overrides.
 */
export async function loadScenarioFile(file: string, overrides: ScenarioOverrides = {}): Promise<Scenario> {
  const scenario = await readScenarioFile(file, overrides);
  if (scenario.protocol === 'http' || scenario.feeder === undefined) return scenario;
  const feeder = await readFeeder(resolve(dirname(file), scenario.feeder.file), scenario.feeder.file, file);
  const flowText = JSON.stringify(scenario.flow);
  for (const name of variablesIn(flowText)) {
    if (name.startsWith('feeder.') && !feeder.columns.includes(name.slice(7))) {
      throw new ScenarioError('flow', `{{${name}}}: ${scenario.feeder.file} has no column ${JSON.stringify(name.slice(7))} (its columns: ${feeder.columns.join(', ')})`, file);
    }
  }
  return { ...scenario, feeder };
}

/**
 * Longest scenario text, before and after `${VAR}` substitution: far above
 * any real scenario, and well under the 64 MiB an agent accepts in a plan
 * (which carries the requests and flow). Bounds what a variable used many
 * times can grow the text to.
 */
export const maxScenarioChars = 16 * 1024 * 1024;

async function readScenarioFile(file: string, overrides: ScenarioOverrides): Promise<Scenario> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code ?? 'unknown error';
    const hint = code === 'ENOENT' ? 'no such file' : code;
    throw new ScenarioError('', `cannot read the scenario file (${hint})`, file);
  }
  if (text.length > maxScenarioChars) {
    throw new ScenarioError('', `the scenario file has ${text.length} characters; a scenario is limited to ${maxScenarioChars} (${maxScenarioChars / 1048576} Mi)`, file);
  }
  return parseScenario(substituteEnvironment(text, process.env, file, maxScenarioChars), file, overrides);
}

/** Validates a scenario made of flags only (`spear run --target URL ...`). */
export function scenarioFromFlags(overrides: ScenarioOverrides): Scenario {
  return parseScenario('', '(command line)', overrides);
}

/** Parses YAML text; errors name `file:line`. Pure apart from the thrown error. */
export function parseScenario(text: string, file: string, overrides: ScenarioOverrides = {}): Scenario {
  const lines = new LineCounter();
  const document = parseDocument(text, { lineCounter: lines, prettyErrors: false, uniqueKeys: true });
  const syntaxError = document.errors[0];
  if (syntaxError !== undefined) {
    const line = lines.linePos(syntaxError.pos[0]).line;
    const first = syntaxError.message.split('\n')[0] ?? syntaxError.message;
    throw new ScenarioError('', `invalid YAML: ${first.replace(/ at line \d+, column \d+:?$/, '')}`, `${file}:${line}`);
  }
  const raw = plainOf(document, lines, file);
  const applied = applyOverrides(raw, overrides);
  return validateScenario(applied.document, new Checker(locator(document, lines, file, applied.flags)));
}

/**
 * How far aliases may expand (the yaml package's measure: uses of an anchor
 * times the aliases nested in it). A scenario needs a few; a "billion laughs"
 * document, nine lines long, expands to billions of nodes.
 */
const maxAliasCount = 100;

/** The document as plain data; alias trouble (no anchor, a cycle, an explosion) is a ScenarioError. */
function plainOf(document: Document, lines: LineCounter, file: string): unknown {
  checkAliases(document, lines, file);
  try {
    return document.toJS({ maxAliasCount }) as unknown;
  } catch (error) {
    const problem = error instanceof ReferenceError && /alias count/i.test(error.message)
      ? `aliases expand too far (over ${maxAliasCount} copies, nested ones included)`
      : messageOf(error).split('\n')[0] ?? 'cannot be read';
    throw new ScenarioError('', `invalid YAML: ${problem}`, file);
  }
}

/**
 * Every alias must follow its anchor and lie outside the node it names (a
 * cycle cannot become JSON). One pass in document order, as yaml resolves.
 */
function checkAliases(document: Document, lines: LineCounter, file: string): void {
  const anchors = new Map<string, Node>();
  visit(document, {
    Node(_key, node, path) {
      if (!isAlias(node)) {
        if (node.anchor !== undefined) anchors.set(node.anchor, node);
        return;
      }
      const where = node.range ? `${file}:${lines.linePos(node.range[0]).line}` : file;
      const source = anchors.get(node.source);
      if (source === undefined) throw new ScenarioError('', `invalid YAML: alias *${node.source} has no anchor &${node.source} before it`, where);
      if (path.includes(source)) throw new ScenarioError('', `invalid YAML: alias *${node.source} lies inside the node it names (a cycle)`, where);
    },
  });
}

function applyOverrides(raw: unknown, overrides: ScenarioOverrides): { document: unknown; flags: Map<string, string> } {
  const flags = new Map<string, string>();
  const { request, ...values } = overrides;
  const present = Object.entries(values).filter(([, value]) => value !== undefined);
  const rawRoot = typeof raw === 'object' && raw !== null && !Array.isArray(raw) ? raw as Record<string, unknown> : undefined;
  // A full URL as the file's target, with no requests, is a one-liner too.
  const oneLiner = request !== undefined || (rawRoot !== undefined && rawRoot.requests === undefined && typeof rawRoot.target === 'string');
  if (present.length === 0 && !oneLiner) return { document: raw, flags };
  const root: Record<string, unknown> = typeof raw === 'object' && raw !== null && !Array.isArray(raw) ? { ...(raw as Record<string, unknown>) } : {};
  // In a long-connection scenario the run's length is the hold after the ramp.
  const sessions = root.protocol === 'ws' || root.protocol === 'socketio';
  for (const [name, value] of present) {
    const spec = overridePaths[name as keyof typeof overridePaths];
    const path = sessions && name === 'duration' ? ['load', 'hold'] : spec.path;
    setIn(root, path, spec.integer && /^\d+$/.test(String(value)) ? Number(value) : value);
    flags.set(path.join('.'), spec.flag);
  }
  if (overrides.connectRate !== undefined && isRecord(root.load)) delete root.load.stages;
  if (overrides.rate !== undefined && isRecord(root.load)) {
    // A constant --rate replaces any ramp the file described.
    delete root.load.stages;
    delete root.load.startRate;
  }
  applyRequestFlags(root, request ?? {});
  return { document: root, flags };
}

function setIn(root: Record<string, unknown>, path: DocPath, value: unknown): void {
  let node = root;
  for (const key of path.slice(0, -1)) {
    const child = node[String(key)];
    const copy: Record<string, unknown> = isRecord(child) ? { ...child } : {};
    node[String(key)] = copy;
    node = copy;
  }
  node[String(path[path.length - 1])] = value;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function locator(document: Document, lines: LineCounter, file: string, flags: Map<string, string>): Locate {
  return (path, part) => {
    const flag = flags.get(path.join('.'));
    if (flag !== undefined) return flag;
    const offset = part === 'key' ? keyOffset(document, path) : valueOffset(document, path);
    if (offset === undefined) return flags.size > 0 && !isNode(document.contents) ? '(command line)' : file;
    return `${file}:${lines.linePos(offset).line}`;
  };
}

/** The offset of the deepest node on `path` that exists (a missing key points at its parent). */
function valueOffset(document: Document, path: DocPath): number | undefined {
  for (let depth = path.length; depth >= 0; depth -= 1) {
    const node: unknown = depth === 0 ? document.contents : document.getIn(path.slice(0, depth), true);
    if (isNode(node) && node.range) return node.range[0];
  }
  return undefined;
}

function keyOffset(document: Document, path: DocPath): number | undefined {
  const parent: unknown = path.length <= 1 ? document.contents : document.getIn(path.slice(0, -1), true);
  const last = path[path.length - 1];
  if (isMap(parent)) {
    for (const pair of parent.items) {
      if (isNode(pair.key) && 'value' in pair.key && pair.key.value === last && pair.key.range) return pair.key.range[0];
    }
  }
  return valueOffset(document, path);
}
