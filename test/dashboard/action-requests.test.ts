/** The Dead letters actions' request bodies: checked before anything runs, with a reason when refused. */
import { describe, expect, it } from 'vitest';
import { ActionRequestError, parseAction } from '../../functions/dashboard/action-requests.ts';

describe('dashboard action requests', () => {
  it('accepts a redrive of selected messages', () => {
    expect(parseAction('redrive', JSON.stringify({ queue: 'webhooks', messageIds: ['a', 'b'] }))).toEqual({
      kind: 'redrive',
      queue: 'webhooks',
      messageIds: ['a', 'b'],
      filter: undefined,
    });
  });

  it('refuses a redrive that names neither messages nor a filter', () => {
    expect(() => parseAction('redrive', JSON.stringify({ queue: 'webhooks' }))).toThrow('either messageIds or a filter');
  });

  it('refuses a purge whose confirmation is not the queue name', () => {
    expect(() => parseAction('purge', JSON.stringify({ queue: 'webhooks', confirm: 'webhook' }))).toThrow(
      `type the queue's name ("webhooks") to confirm the purge`,
    );
  });

  it('refuses unknown fields, saying which', () => {
    expect(() => parseAction('delete', JSON.stringify({ queue: 'default', messageIds: ['a'], all: true }))).toThrow(
      /invalid delete request: .*all/,
    );
  });

  it('refuses a body that is not JSON', () => {
    expect(() => parseAction('delete', '<form>')).toThrow(ActionRequestError);
  });

  it('refuses an unknown action', () => {
    expect(() => parseAction('drop-table', '{}')).toThrow('unknown action "drop-table"');
  });
});
