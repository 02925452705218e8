/**
 * A progress bar on a terminal (redrawn in place at most 10 times a second), and sparse plain lines
 * (every 10%) when the output is not a terminal, so logs stay readable.
 */

/** The stream a progress display writes to. */
export interface ProgressStream {
  write(chunk: string): boolean;
  readonly isTTY?: boolean | undefined;
  readonly columns?: number | undefined;
}

/** A running progress display. */
export interface Progress {
  /** Sets the count done so far and an optional short note (e.g. `3 failed`). */
  update(done: number, note?: string): void;
  /** Draws the final state and ends the line. */
  finish(): void;
}

const REDRAW_MS = 100;

/** Starts a progress display of `total` units labelled `label`. */
export function createProgress(stream: ProgressStream, label: string, total: number): Progress {
  let done = 0;
  let note = '';
  let lastDraw = 0;
  let lastDecile = 0;
  /** The last plain line written, so `finish` writes the final state only when it says something new. */
  let lastPlain = '';
  const tty = stream.isTTY === true;

  const line = (): string => {
    const ratio = total > 0 ? Math.min(1, done / total) : 1;
    const counts = `${done}/${total}${note ? ` ${note}` : ''}`;
    const width = Math.max(10, Math.min(40, (stream.columns ?? 80) - label.length - counts.length - 12));
    const filled = Math.round(ratio * width);
    return `${label} [${'#'.repeat(filled)}${'.'.repeat(width - filled)}] ${String(Math.round(ratio * 100)).padStart(3)}% ${counts}`;
  };

  const plainLine = (): string => `${label}: ${done}/${total}${note ? ` ${note}` : ''}`;

  const draw = (force: boolean): void => {
    if (tty) {
      const now = Date.now();
      if (!force && now - lastDraw < REDRAW_MS) return;
      lastDraw = now;
      stream.write(`\r\x1b[2K${line()}`);
      return;
    }
    const decile = total > 0 ? Math.floor((done / total) * 10) : 10;
    if (force || decile > lastDecile) {
      lastDecile = decile;
      lastPlain = plainLine();
      stream.write(`${lastPlain}\n`);
    }
  };

  return {
    update(value, text) {
      done = value;
      note = text ?? note;
      draw(false);
    },
    finish() {
      if (tty) {
        draw(true);
        stream.write('\n');
      } else if (plainLine() !== lastPlain) {
        draw(true);
      }
    },
  };
}
