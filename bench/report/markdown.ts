// The README report's small formatters, shared by every section file.

/** A number to `d` significant digits, or '–' when there is none. */
export const n = (v: unknown, d = 3): string => (typeof v === 'number' && Number.isFinite(v) ? String(Number(v.toPrecision(d))) : '–');

/** A markdown table; empty cells print as '–'. */
export const table = (header: string[], rows: unknown[][]): string =>
  [`| ${header.join(' | ')} |`, `|${header.map(() => '---').join('|')}|`, ...rows.map((r) => `| ${r.map((c) => String(c ?? '–')).join(' | ')} |`)].join('\n');
