import type { SessionPlan } from '../scenarios/plan.js';
import { assignmentOf } from '../scenarios/user-assignment.js';
import { valueAt } from './template.js';

/** What variables read of the run: the plan (agent id, feeder rows) and the feeder's column positions. */
export interface VariableContext {
  readonly plan: SessionPlan;
  readonly feederColumns: ReadonlyMap<string, number>;
}

/**
 * A template variable of user `index` (group `group`) other than `stamp`
 * and `iteration`, which the user answers itself: `user`, `group`, `agent`,
 * `random`, `time`, `feeder.<column>` (row `index` mod the file's rows), or a capture,
 * dotted paths reading into it. undefined when unknown.
 */
export function userVariable(name: string, index: number, group: number, captures: ReadonlyMap<string, unknown> | undefined, context: VariableContext): unknown {
  switch (name) {
    case 'user':
      return index;
    case 'group':
      return group;
    case 'agent':
      return context.plan.agentId;
    case 'random':
      return Math.random().toString(36).slice(2, 12);
    case 'time':
      return Date.now();
    default: {
      if (name.startsWith('feeder.')) return feederValue(name.slice(7), index, context);
      const dot = name.indexOf('.');
      if (dot < 0) return captures?.get(name);
      return valueAt(captures?.get(name.slice(0, dot)), name.slice(dot + 1));
    }
  }
}

function feederValue(column: string, index: number, context: VariableContext): string | undefined {
  const rows = context.plan.feeder?.rows;
  const position = context.feederColumns.get(column);
  if (rows === undefined || position === undefined || rows.length === 0) return undefined;
  // The plan carries this agent's rows by local slot (see agentFeederRows): row i mod R of the file, one per user globally.
  return rows[assignmentOf(context.plan).slotOf(index) % rows.length]?.[position];
}
