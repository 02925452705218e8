/** The page's requests to its server: actions carry the token the page got at load, in the token header. */
import { TOKEN_HEADER, type ActionResult } from '../model.ts';

function token(): string {
  return document.querySelector<HTMLMetaElement>('meta[name="dashboard-token"]')?.content ?? '';
}

/** Sends an action; resolves with the server's answer (never rejects). */
export async function postAction(name: 'redrive' | 'delete' | 'purge' | 'cancel', body: unknown): Promise<ActionResult> {
  try {
    const response = await fetch(`/api/actions/${name}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', [TOKEN_HEADER]: token() },
      body: JSON.stringify(body),
    });
    const text = await response.text();
    if (response.headers.get('content-type')?.startsWith('application/json')) {
      const parsed: unknown = JSON.parse(text);
      if (typeof parsed === 'object' && parsed !== null && 'message' in parsed && typeof parsed.message === 'string') {
        return { ok: response.ok && 'ok' in parsed && parsed.ok === true, message: parsed.message };
      }
    }
    return { ok: response.ok, message: text.trim() };
  } catch (error) {
    return { ok: false, message: `the dashboard server does not answer: ${String(error)}` };
  }
}

/** Fetches one dead-letter message's body (only when the user asks for it). */
export async function fetchBody(queue: string, messageId: string): Promise<{ ok: boolean; text: string }> {
  try {
    const response = await fetch(`/api/body?${new URLSearchParams({ queue, id: messageId }).toString()}`);
    const parsed: unknown = await response.json();
    if (typeof parsed !== 'object' || parsed === null) return { ok: false, text: 'unreadable answer' };
    if (response.ok && 'body' in parsed && typeof parsed.body === 'string') return { ok: true, text: parsed.body };
    return { ok: false, text: 'message' in parsed && typeof parsed.message === 'string' ? parsed.message : `HTTP ${response.status}` };
  } catch (error) {
    return { ok: false, text: `the dashboard server does not answer: ${String(error)}` };
  }
}

/** A body pretty-printed when it is JSON, as it is otherwise. */
export function prettyBody(body: string): string {
  try {
    return JSON.stringify(JSON.parse(body), null, 2);
  } catch {
    return body;
  }
}
