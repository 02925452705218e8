import { describe, expect, it } from 'vitest';
import { loadedOnce } from '../../functions/runtime/remembered.ts';

describe('a lazy load of the runtime (loadedOnce)', () => {
  it('loads on first use and keeps what it loaded', async () => {
    let loads = 0;
    const load = loadedOnce(async () => ({ number: ++loads }));
    expect(await load()).toEqual({ number: 1 });
    expect(await load()).toBe(await load());
    expect(loads).toBe(1);
  });

  it('tries again after a load that failed, instead of failing every later use', async () => {
    let loads = 0;
    const load = loadedOnce(async () => {
      loads += 1;
      if (loads === 1) throw new Error('EMFILE: too many open files');
      return 'loaded';
    });
    await expect(load()).rejects.toThrow('EMFILE');
    expect(await load()).toBe('loaded');
    expect(loads).toBe(2);
  });
});
