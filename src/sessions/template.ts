/**
 * `{{name}}` templates in flow steps, compiled once per step and rendered
 * per user. In JSON templates a string that is exactly "{{name}}" becomes
 * the value with its JSON type (numbers stay numbers, captured objects stay
 * objects); a variable inside a longer string is inserted JSON-escaped.
 * Names may be dotted to reach into captured objects: {{ticket.url}}.
 */

/** Variables every user has, whatever the flow captured. */
export const builtinVariables = ['user', 'group', 'agent', 'iteration', 'stamp', 'random', 'time'] as const;

/** One user's variables; `variable` returns undefined when one has no value (yet). */
export interface VariableSource {
  variable(name: string): unknown;
}

interface Part {
  readonly text: string;
  /** Variable after `text`; "" for the trailing text. */
  readonly name: string;
  /** Insert as a JSON value (the whole string was the variable). */
  readonly raw: boolean;
}

/** A compiled template: literal text and variables, in order. */
export interface Template {
  readonly parts: readonly Part[];
  /** True when there is no variable: render returns the source text. */
  readonly constant: boolean;
  readonly source: string;
}

const variablePattern = /\{\{\s*([A-Za-z_][\w.]*)\s*\}\}/g;

/** The variable names a template text refers to. */
export function variablesIn(text: string): string[] {
  return [...text.matchAll(variablePattern)].map((match) => match[1]!);
}

/** Compiles `source`; `json` marks JSON text (see the module comment). */
export function compileTemplate(source: string, json: boolean): Template {
  const parts: Part[] = [];
  let last = 0;
  for (const match of source.matchAll(variablePattern)) {
    const start = match.index;
    const end = start + match[0].length;
    const raw = json && source[start - 1] === '"' && source[end] === '"';
    parts.push({ text: source.slice(last, raw ? start - 1 : start), name: match[1]!, raw });
    last = raw ? end + 1 : end;
  }
  parts.push({ text: source.slice(last), name: '', raw: false });
  return { parts, constant: parts.length === 1, source };
}

/** Renders for one user. A missing variable renders as "" (or null in raw JSON position). */
export function renderTemplate(template: Template, json: boolean, source: VariableSource): string {
  if (template.constant) return template.source;
  let out = '';
  for (const part of template.parts) {
    out += part.text;
    if (part.name === '') continue;
    const value = source.variable(part.name);
    if (part.raw) out += JSON.stringify(value ?? null);
    else out += json ? escapeJson(value) : textOf(value);
  }
  return out;
}

function textOf(value: unknown): string {
  if (value === undefined || value === null) return '';
  if (typeof value === 'object') return JSON.stringify(value);
  return String(value);
}

function escapeJson(value: unknown): string {
  const text = JSON.stringify(textOf(value));
  return text.slice(1, -1);
}

/** Follows a dotted path ("data.node.url") into a parsed JSON value. */
export function valueAt(value: unknown, path: string): unknown {
  let current = value;
  for (const key of path.split('.')) {
    if (key === '' || key === '$') continue;
    if (typeof current !== 'object' || current === null) return undefined;
    current = Array.isArray(current) ? current[Number(key)] : (current as Record<string, unknown>)[key];
  }
  return current;
}
