/** Repeatable commander options (-H, --agent, --allow-target, --fail-if). */

/** Commander's argParser for a repeatable option: each value appended, in the order given (start from `[]`). */
export function collect(value: string, previous: string[]): string[] {
  return [...previous, value];
}
