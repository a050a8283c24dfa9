/**
 * Text in hand-built SVG: escaping, coordinates at one decimal, and a rough
 * text width for laying out and wrapping labels without a font engine.
 *
 * @module
 */

/**
 * Rounds to one decimal, the precision of every coordinate in the file.
 *
 * @example
 * ```ts
 * n(12.345); // '12.3'
 * ```
 */
export function n(v: number): string {
  return String(Math.round(v * 10) / 10);
}

/**
 * A rough width of `text` in a sans-serif font at `size` px, for layout only.
 *
 * @example
 * ```ts
 * textWidth('workers', 11); // 43.1
 * ```
 */
export function textWidth(text: string, size: number): number {
  return text.length * size * 0.56;
}

/**
 * Splits `text` into lines no wider than `width` pixels at `size`: at each
 * newline, and at spaces (a longer word gets a line of its own).
 *
 * @example
 * ```ts
 * wrap('one two three', 10, 50); // ['one two', 'three']
 * ```
 */
export function wrap(text: string, size: number, width: number): string[] {
  if (text.includes('\n')) return text.split('\n').flatMap((part) => wrap(part, size, width));
  const lines: string[] = [];
  let line = '';
  for (const word of text.split(' ')) {
    const next = line === '' ? word : `${line} ${word}`;
    if (line !== '' && textWidth(next, size) > width) {
      lines.push(line);
      line = word;
    } else {
      line = next;
    }
  }
  if (line !== '') lines.push(line);
  return lines;
}

const ENTITIES: Readonly<Record<string, string>> = {
  '&': '&amp;',
  '<': '&lt;',
  '>': '&gt;',
  '"': '&quot;',
  "'": '&#39;',
};

/**
 * Escapes text for XML content and attributes, and drops the control
 * characters XML 1.0 forbids.
 *
 * @example
 * ```ts
 * esc('a<b & "c"'); // 'a&lt;b &amp; &quot;c&quot;'
 * ```
 */
export function esc(text: string): string {
  let out = '';
  for (const c of text) {
    const code = c.codePointAt(0)!;
    if (code < 0x20 && c !== '\t' && c !== '\n' && c !== '\r') continue;
    out += ENTITIES[c] ?? c;
  }
  return out;
}
