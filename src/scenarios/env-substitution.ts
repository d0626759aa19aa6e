import { Lexer } from 'yaml';
import { ScenarioError } from '../errors.js';

/**
 * `${NAME}` in a scenario file, resolved from the environment on the raw
 * text before YAML parsing, as docker compose does: `users: ${USERS:-100}`
 * then parses as the number 100, and validation sees the substituted values.
 *
 * - `${NAME}`: the value; an error when NAME is unset (set and empty gives "").
 * - `${NAME:-default}`: the default when NAME is unset or empty (POSIX `:-`).
 * - `${NAME-default}`: the default only when NAME is unset.
 * - `$${` writes a literal `${`; a `$` anywhere else is left alone.
 * - NAME is `[A-Za-z_][A-Za-z0-9_]*`; the expression ends at the first `}`
 *   on its line, so a default holds no `}` and no nested `${`.
 * - YAML comments are copied as written: a `${` there is never an error.
 *   Comments are found by the yaml package's own lexer on the raw text, so a
 *   `#` inside quotes or a block scalar is text, not a comment.
 *
 * Values are inserted verbatim (quote them in the file when they may hold
 * YAML syntax: `token: "${TOKEN}"`). A value with a line break is refused,
 * which keeps every line number of later errors true to the file.
 */

/** Reads one variable: `process.env`, or a plain record in tests. */
export type Environment = Readonly<Record<string, string | undefined>>;

const namePattern = /^([A-Za-z_][A-Za-z0-9_]*)(?:(:?-)(.*))?$/s;
const forms = 'write ${NAME}, ${NAME:-default} or ${NAME-default} (NAME: letters, digits and _, not starting with a digit), or $${ for a literal ${';

/**
 * `text` with every `${...}` outside comments replaced. Throws a
 * ScenarioError located at `file:line` for an unset variable, a malformed
 * expression, a value with a line break, or a result over `maxChars`.
 * Pure apart from the thrown error; linear in the text and the result.
 */
export function substituteEnvironment(text: string, environment: Environment, file: string, maxChars: number): string {
  if (!text.includes('${')) return text;
  const comments = commentRanges(text);
  let comment = 0;
  let out = '';
  let copied = 0;
  let line = 1;
  let lineEnd = endOf(text, 0);
  for (let open = text.indexOf('${'); open !== -1; open = text.indexOf('${', open + 2)) {
    while (lineEnd < open) {
      line += 1;
      lineEnd = endOf(text, lineEnd + 1);
    }
    while (comment < comments.length && comments[comment]!.end <= open) comment += 1;
    const next = comments[comment];
    if (next !== undefined && next.start <= open) continue;
    const where = `${file}:${line}`;
    if (text[open - 1] === '$') {
      out += text.slice(copied, open - 1);
      copied = open; // `$${` → `${`: drop the first `$`, copy the rest as text.
      continue;
    }
    const limit = next !== undefined && next.start < lineEnd ? next.start : lineEnd;
    const close = text.indexOf('}', open + 2);
    if (close === -1 || close >= limit) {
      throw new ScenarioError('', `${quote(text.slice(open, limit))} is not closed: end it with } on the same line (before any # comment), or write $\${ for a literal \${`, where);
    }
    out += text.slice(copied, open) + resolve(text.slice(open + 2, close), environment, where);
    copied = close + 1;
    if (out.length + (text.length - copied) > maxChars) {
      throw new ScenarioError('', `${quote(text.slice(open, close + 1))} makes the scenario longer than ${maxChars} characters (${maxChars / 1048576} Mi), the limit for a scenario: use a shorter value`, where);
    }
    open = close - 1;
  }
  return out + text.slice(copied);
}

/** The value of one expression's body (the text between `${` and `}`). */
function resolve(body: string, environment: Environment, where: string): string {
  const match = namePattern.exec(body);
  if (match === null) throw new ScenarioError('', `${quote(`\${${body}}`)} is not a variable: ${forms}`, where);
  const name = match[1]!;
  const operator = match[2];
  const fallback = match[3] ?? '';
  if (fallback.includes('${')) throw new ScenarioError('', `${quote(`\${${body}}`)}: a default cannot hold another \${ (no nesting): give a literal default`, where);
  const value = environment[name];
  if (operator === ':-' && (value === undefined || value === '')) return fallback;
  if (operator === '-' && value === undefined) return fallback;
  if (value === undefined) throw new ScenarioError('', `\${${name}} is not set: export ${name}=… or write \${${name}:-default}`, where);
  if (/[\r\n]/.test(value)) throw new ScenarioError('', `\${${name}}: the value holds a line break; a value from the environment must be one line`, where);
  return value;
}

/** The offset of the line break ending the line that holds `from` (the text's length on the last line). */
function endOf(text: string, from: number): number {
  const newline = text.indexOf('\n', from);
  return newline === -1 ? text.length : newline;
}

/** At most 40 characters of an expression, for an error message. */
function quote(expression: string): string {
  const trimmed = expression.replace(/\r$/, '');
  return `"${trimmed.length > 40 ? `${trimmed.slice(0, 40)}…` : trimmed}"`;
}

interface Range {
  readonly start: number;
  readonly end: number;
}

/**
 * The comments of a YAML text, in order, as the yaml package's lexer finds
 * them (the parser that reads the file next). The lexer's tokens are slices
 * of the source, apart from zero-width markers; a `#` token right after the
 * scalar marker is a block scalar's body, not a comment. Should the tokens
 * ever not tile the text, no comment is skipped: substituting there too
 * is the safe side.
 */
function commentRanges(text: string): Range[] {
  const ranges: Range[] = [];
  let offset = 0;
  let previous = '';
  for (const token of new Lexer().lex(text)) {
    if (token === '\x02' || token === '\x18' || token === '\x1f') {
      previous = token;
      continue;
    }
    if (!text.startsWith(token, offset)) return [];
    if (token.startsWith('#') && previous !== '\x1f') ranges.push({ start: offset, end: offset + token.length });
    offset += token.length;
    previous = token;
  }
  return offset === text.length ? ranges : [];
}
