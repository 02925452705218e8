import { expect, it } from 'vitest';

it('runs the tests on Node.js 24, the Lambda runtime, whatever node the machine has on PATH', () => {
  expect(process.versions.node).toMatch(/^24\./);
});
