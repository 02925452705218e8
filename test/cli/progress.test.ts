import { describe, expect, it } from 'vitest';
import { createProgress } from '../../functions/cli/progress.ts';
import { Collector } from './cli-harness.ts';

describe('progress display', () => {
  it('draws a bar in place on a terminal and ends the line when finished', () => {
    const tty = new Collector(true);
    const progress = createProgress(tty, 'enqueue send-email', 200);
    progress.update(50);
    progress.update(200, '(1 failed)');
    progress.finish();
    expect(tty.text).toContain('\r\x1b[2Kenqueue send-email [');
    expect(tty.text).toMatch(/\] 100% 200\/200 \(1 failed\)\n$/);
    expect(tty.text.split('\n')).toHaveLength(2);
  });

  it('writes at most one plain line per tenth when not a terminal', () => {
    const plain = new Collector(false);
    const progress = createProgress(plain, 'redrive q', 1000);
    for (let done = 1; done <= 1000; done += 1) progress.update(done);
    progress.finish();
    const lines = plain.text.trim().split('\n');
    expect(lines).toHaveLength(10);
    expect(lines.at(-1)).toBe('redrive q: 1000/1000');
    expect(plain.text).not.toContain('\r');
  });

  it('ends with the final count and note when not a terminal, even after the last tenth was written', () => {
    const plain = new Collector(false);
    const progress = createProgress(plain, 'enqueue send-email', 4);
    progress.update(4, '(1 failed)');
    progress.update(4, '(4 failed)');
    progress.finish();
    expect(plain.text.trim().split('\n').at(-1)).toBe('enqueue send-email: 4/4 (4 failed)');
  });
});
