/**
 * The result's JSON text, piece by piece: a long run's timeline holds more
 * text than V8's longest string (2^29 − 24 characters), so the whole file is
 * never one string. The pieces, joined, are exactly
 * `JSON.stringify(value, null, 2) + '\n'`; each is at most one top-level
 * member, or one element of a top-level list (one timeline entry, one agent).
 * Pure and lazy: a generator, which may be run again (to write a second copy).
 */
export function* jsonChunks(value: object): Generator<string, void, undefined> {
  let first = true;
  yield '{';
  const members: [string, unknown][] = Object.entries(value);
  for (const [key, member] of members) {
    const list = Array.isArray(member) && member.length > 0 ? (member as readonly unknown[]) : undefined;
    // A list is never stringified whole: that is where the text grows (the timeline).
    const text = list === undefined ? (JSON.stringify(member, null, 2) as string | undefined) : '';
    // JSON.stringify leaves out members it cannot write (undefined, functions): so must we.
    if (text === undefined) continue;
    yield `${first ? '' : ','}\n  ${JSON.stringify(key)}: `;
    first = false;
    if (list === undefined) yield indented(text, '  ');
    else yield* listChunks(list);
  }
  yield first ? '}\n' : '\n}\n';
}

/** A top-level list, one element per piece, indented as JSON.stringify would (undefined elements become null). */
function* listChunks(list: readonly unknown[]): Generator<string, void, undefined> {
  yield '[';
  for (let index = 0; index < list.length; index += 1) {
    const text = (JSON.stringify(list[index], null, 2) as string | undefined) ?? 'null';
    yield `${index === 0 ? '' : ','}\n    ${indented(text, '    ')}`;
  }
  yield '\n  ]';
}

/** Continuation lines indented by `prefix`: JSON text has no raw newline inside a string, so every newline is layout. */
function indented(text: string, prefix: string): string {
  return text.replaceAll('\n', `\n${prefix}`);
}
