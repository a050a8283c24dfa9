/**
 * Plain-text tables and number formats for bench output.
 *
 * @module
 */

/**
 * A column: its header and whether its cells align right (numbers do).
 *
 * @example
 * ```ts
 * const columns: Column[] = [{ header: 'peer' }, { header: 'tasks/s', right: true }];
 * ```
 */
export interface Column {
  readonly header: string;
  readonly right?: boolean;
}

/**
 * Formats rows under headers, columns padded to their widest cell.
 *
 * @example
 * ```ts
 * console.log(formatTable([{ header: 'peer' }, { header: 'tasks/s', right: true }], [['corepool', '29,000']]));
 * // peer      tasks/s
 * // --------  -------
 * // corepool   29,000
 * ```
 */
export function formatTable(columns: readonly Column[], rows: readonly (readonly string[])[]): string {
  const widths = columns.map((c, i) => Math.max(c.header.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: readonly string[]): string =>
    columns
      .map((c, i) => {
        const cell = cells[i] ?? '';
        const w = widths[i] ?? 0;
        return c.right ? cell.padStart(w) : cell.padEnd(w);
      })
      .join('  ')
      .trimEnd();
  return [line(columns.map((c) => c.header)), line(widths.map((w) => '-'.repeat(w))), ...rows.map(line)].join('\n');
}

/**
 * A number with thousands separators and `digits` decimals.
 *
 * @example
 * ```ts
 * fmt(29123.4); // '29,123'
 * fmt(1.234, 2); // '1.23'
 * ```
 */
export function fmt(x: number, digits = 0): string {
  return x.toLocaleString('en-US', { minimumFractionDigits: digits, maximumFractionDigits: digits });
}

/**
 * A rate in units per second with a k/M suffix.
 *
 * @example
 * ```ts
 * rate(29_123);    // '29.1k'
 * rate(5_200_000); // '5.20M'
 * ```
 */
export function rate(x: number): string {
  if (x >= 1e6) return `${(x / 1e6).toFixed(2)}M`;
  if (x >= 1e3) return `${(x / 1e3).toFixed(1)}k`;
  return x.toFixed(0);
}

/**
 * A duration in milliseconds, with the precision its size needs.
 *
 * @example
 * ```ts
 * ms(1234.5); // '1,235 ms'
 * ms(12.345); // '12.3 ms'
 * ```
 */
export function ms(x: number): string {
  return x >= 100 ? `${fmt(x)} ms` : `${x.toFixed(1)} ms`;
}
