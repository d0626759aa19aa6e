import type { ChartSpec } from './html-charts.js';

/** HTML building blocks shared by the report's parts. Pure. */

/** Text safe inside HTML elements and attribute values. */
export function escapeHtml(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
}

/** A table of text cells (escaped here). */
export function table(head: readonly string[], rows: readonly (readonly string[])[], className = ''): string {
  const header = head.map((cell) => `<th>${escapeHtml(cell)}</th>`).join('');
  const body = rows.map((row) => `<tr>${row.map((cell) => `<td>${escapeHtml(cell)}</td>`).join('')}</tr>`).join('');
  return `<table class="${className}"><thead><tr>${header}</tr></thead><tbody>${body}</tbody></table>`;
}

/**
 * A chart's place in the page: its heading (the metric it shows), its note,
 * and the box uPlot draws into. data-log-x / data-log-y say which axes are
 * logarithmic, for readers and tests.
 */
export function chartBlock(chart: ChartSpec): string {
  const note = chart.note === undefined ? '' : `<p class="note">${escapeHtml(chart.note)}</p>`;
  return `<div class="chart" id="chart-${escapeHtml(chart.id)}" data-log-x="${chart.distribution}" data-log-y="${chart.logY}"><h3>${escapeHtml(chart.title)}</h3>${note}<div class="plot"></div></div>`;
}
