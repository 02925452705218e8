/**
 * The dashboard's request rules over real HTTP: a foreign Host is refused on every path, and a
 * state-changing request needs a same-origin Origin and the page's token; a read-only dashboard refuses
 * actions even then. Each refusal is 403 with a short reason.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startDashboardServer, type DashboardServer } from '../../functions/dashboard/server.ts';
import { ask, pageToken } from './http.ts';

describe('dashboard request rules', () => {
  let actions: DashboardServer;
  let readOnly: DashboardServer;
  let token: string;
  const purge = JSON.stringify({ queue: 'default', confirm: 'default' });

  beforeAll(async () => {
    actions = await startDashboardServer({ port: 0, allowActions: true });
    readOnly = await startDashboardServer({ port: 0 });
    token = await pageToken(actions.port);
  });
  afterAll(async () => {
    await actions.close();
    await readOnly.close();
  });

  it('listens on 127.0.0.1 only', () => {
    expect(actions.url).toBe(`http://127.0.0.1:${actions.port}/`);
  });

  it('serves the page with a Content-Security-Policy that allows only its own script and styles', async () => {
    const answer = await ask(actions.port, { host: `localhost:${actions.port}` });
    expect(answer.status).toBe(200);
    expect(answer.headers['content-security-policy']).toContain("script-src 'self'");
    expect(answer.headers['content-security-policy']).toContain("default-src 'none'");
    expect(answer.body).not.toMatch(/<script>|https?:\/\/(?!127)/);
  });

  it('refuses a foreign Host (DNS rebinding) with 403 and a short reason', async () => {
    for (const path of ['/', '/app.js', '/api/events', '/api/body?queue=default&id=x']) {
      const answer = await ask(actions.port, { path, host: `attacker.example:${actions.port}` });
      expect(answer.status).toBe(403);
      expect(answer.body).toMatch(/^403 Forbidden: foreign Host/);
    }
  });

  it('refuses the right host name on another port', async () => {
    const answer = await ask(actions.port, { host: `127.0.0.1:${actions.port + 1}` });
    expect(answer.status).toBe(403);
  });

  it('refuses an action with a foreign Origin, even with the token', async () => {
    const answer = await ask(actions.port, {
      method: 'POST',
      path: '/api/actions/purge',
      origin: 'http://attacker.example',
      token,
      body: purge,
    });
    expect(answer.status).toBe(403);
    expect(answer.body).toContain('foreign Origin');
  });

  it('refuses an action without an Origin', async () => {
    const answer = await ask(actions.port, { method: 'POST', path: '/api/actions/purge', token, body: purge });
    expect(answer.status).toBe(403);
    expect(answer.body).toContain('no Origin');
  });

  it('refuses an action without the token', async () => {
    const origin = `http://127.0.0.1:${actions.port}`;
    const answer = await ask(actions.port, { method: 'POST', path: '/api/actions/purge', origin, body: purge });
    expect(answer.status).toBe(403);
    expect(answer.body).toContain('missing token');
  });

  it('refuses an action with a wrong token', async () => {
    const origin = `http://127.0.0.1:${actions.port}`;
    const answer = await ask(actions.port, { method: 'POST', path: '/api/actions/purge', origin, token: `${token}x`, body: purge });
    expect(answer.status).toBe(403);
    expect(answer.body).toContain('wrong token');
  });

  it('refuses an Origin of localhost when the request was sent to 127.0.0.1', async () => {
    const answer = await ask(actions.port, {
      method: 'POST',
      path: '/api/actions/purge',
      origin: `http://localhost:${actions.port}`,
      token,
      body: purge,
    });
    expect(answer.status).toBe(403);
  });

  it('refuses every action when read-only, even from the page', async () => {
    const readOnlyToken = await pageToken(readOnly.port);
    const answer = await ask(readOnly.port, {
      method: 'POST',
      path: '/api/actions/purge',
      origin: `http://127.0.0.1:${readOnly.port}`,
      token: readOnlyToken,
      body: purge,
    });
    expect(answer.status).toBe(403);
    expect(answer.body).toContain('--allow-actions');
  });

  it('gives each server run its own token', async () => {
    expect(await pageToken(readOnly.port)).not.toBe(token);
  });
});
