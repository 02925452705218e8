/** Vitest setup file: this test file's temporary files go under the run's directory (see `temp-root.ts`). */
import { inject } from 'vitest';

process.env.TMPDIR = inject('tempRoot');
