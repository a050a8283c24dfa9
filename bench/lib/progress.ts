/**
 * A one-line progress display for long benches, on stderr so that stdout
 * keeps only results. It rewrites itself in place on a terminal and prints
 * nothing at all when stderr is not a TTY (CI logs, pipes, `--json` scripts).
 *
 * @module
 */

/**
 * Progress through a known number of steps.
 *
 * @example
 * ```ts
 * const progress = createProgress(40);
 * progress.step('primes corepool@2 round 3/5');
 * progress.note('round disturbed: again');
 * progress.done();
 * ```
 */
export interface ProgressLine {
  /** One step done; shows `[ 37%] <label>  ~1m10s left`. */
  step(label: string): void;
  /** Prints `line` above the progress line (kept in the scrollback). */
  note(line: string): void;
  /** Adds steps to the total (work discovered on the way). */
  grow(steps: number): void;
  /** Clears the progress line. */
  done(): void;
}

function clock(ms: number): string {
  const s = Math.max(0, Math.round(ms / 1000));
  return s >= 60 ? `${Math.floor(s / 60)}m${String(s % 60).padStart(2, '0')}s` : `${s}s`;
}

/**
 * A progress line over `total` steps, drawn on stderr when `enabled` (by
 * default: when stderr is a terminal).
 *
 * @example
 * ```ts
 * const progress = createProgress(rounds.length);
 * for (const r of rounds) { await r.run(); progress.step(r.name); }
 * progress.done();
 * ```
 */
export function createProgress(total: number, enabled = process.stderr.isTTY === true): ProgressLine {
  const start = Date.now();
  let done = 0;
  let steps = Math.max(1, total);
  let shown = false;
  const clear = (): void => {
    if (shown) process.stderr.write('\r\x1b[2K');
    shown = false;
  };
  return {
    step(label) {
      done = Math.min(steps, done + 1);
      if (!enabled) return;
      const elapsed = Date.now() - start;
      const left = done === 0 ? 0 : (elapsed / done) * (steps - done);
      const pct = String(Math.round((done / steps) * 100)).padStart(3);
      const width = Math.max(20, (process.stderr.columns || 100) - 1);
      const line = `[${pct}%] ${label}  ~${clock(left)} left`;
      clear();
      process.stderr.write(line.slice(0, width));
      shown = true;
    },
    note(line) {
      if (!enabled) return;
      clear();
      process.stderr.write(`${line}\n`);
    },
    grow(more) {
      steps += Math.max(0, more);
    },
    done() {
      if (enabled) clear();
    },
  };
}
