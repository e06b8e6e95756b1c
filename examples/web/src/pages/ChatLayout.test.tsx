import { act, screen, waitFor, within } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { Message } from '../api/types';
import {
  authResponse,
  FakeWebSocket,
  fakeJwt,
  json,
  message,
  mockFetch,
  renderApp,
  seedAuth,
  session,
  type Route,
} from '../test/helpers';

const ready = { type: 'ready', user: { id: 'u1' }, expires_at: '2026-11-22T03:00:00Z' };

beforeEach(() => {
  FakeWebSocket.reset();
  vi.stubGlobal('WebSocket', FakeWebSocket);
});
afterEach(() => vi.unstubAllGlobals());

function api(messages: Message[] = [], extra: Route = () => undefined, providers = [{ name: 'offline', model: 'offline-echo', state: 'ok' }]) {
  return mockFetch((url, init) => {
    const r = extra(url, init);
    if (r) return r;
    if (url === '/health') return json(200, { status: 'ok', database: 'ok', providers });
    if (url.startsWith('/chat/sessions?'))
      return json(200, [session('s1', 'Trip plan', '2026-11-22T02:00:00Z'), session('s2', 'Old chat', '2026-11-21T02:00:00Z')]);
    if (url === '/chat/sessions/s1' && init.method === 'GET') return json(200, { session: session('s1', 'Trip plan'), messages });
    if (url === '/chat/sessions/s2' && init.method === 'GET') return json(200, { session: session('s2', 'Old chat'), messages: [] });
    return undefined;
  });
}

async function connect() {
  await waitFor(() => expect(FakeWebSocket.instances.length).toBeGreaterThan(0));
  const ws = FakeWebSocket.last;
  act(() => {
    ws.accept();
    ws.push(ready);
  });
  return ws;
}

describe('ChatLayout', () => {
  it('loads sessions and the selected session with the two API calls and shows them', async () => {
    seedAuth();
    const fetch = api([message({ id: 'm1', role: 'user', content: 'Plan a trip' }), message({ id: 'm2', role: 'assistant', content: 'Sure, **Lisbon**!' })]);
    renderApp('/chat/s1');
    expect(await screen.findByRole('heading', { name: 'Trip plan' })).toBeInTheDocument();
    const assistant = await screen.findByRole('article', { name: 'assistant message' });
    expect(within(assistant).getByText('Lisbon').tagName).toBe('STRONG');
    const nav = screen.getByRole('navigation', { name: 'Chats' });
    const links = within(nav).getAllByRole('link');
    expect(links.map((l) => l.textContent)).toEqual(['Trip plan', 'Old chat']);
    expect(links[0]).toHaveAttribute('aria-current', 'page');
    const urls = fetch.mock.calls.map((c) => String(c[0]));
    expect(urls.filter((u) => u.startsWith('/chat/')).sort()).toEqual(['/chat/sessions/s1', '/chat/sessions?limit=50']);
    expect(fetch.mock.calls.filter((c) => String(c[0]).startsWith('/chat/')).every((c) => (c[1]?.headers as Record<string, string>).Authorization?.startsWith('Bearer '))).toBe(true);
    // provider + offline notice
    expect(screen.getByTestId('answered-by')).toHaveTextContent('Answered by offline · offline-echo');
    expect(await screen.findByRole('note')).toHaveTextContent(/offline model/i);
  });

  it('sends over the WebSocket and shows the reply as it streams, with Stop meanwhile', async () => {
    seedAuth();
    api([]);
    renderApp('/chat/s1');
    const ws = await connect();
    await screen.findByText('How can I help?');
    await userEvent.type(screen.getByLabelText('Message'), 'Hello there{Enter}');
    const send = ws.sent.find((f) => f.type === 'send')!;
    expect(send).toMatchObject({ type: 'send', session_id: 's1', content: 'Hello there' });
    expect(screen.getByRole('button', { name: 'Stop' })).toBeInTheDocument();
    const rid = send.request_id as string;
    act(() => {
      ws.push({ type: 'message', request_id: rid, message: message({ id: 'u', role: 'user', content: 'Hello there', timestamp: '2026-11-22T05:00:00Z' }) });
      ws.push({ type: 'message', request_id: rid, message: message({ id: 'a', role: 'assistant', content: '', status: 'streaming', timestamp: '2026-11-22T05:00:00Z' }) });
      ws.push({ type: 'delta', request_id: rid, session_id: 's1', message_id: 'a', text: 'Hi, ' });
    });
    const reply = screen.getByRole('article', { name: 'assistant message' });
    expect(reply).toHaveTextContent('Hi,');
    act(() => ws.push({ type: 'delta', request_id: rid, session_id: 's1', message_id: 'a', text: 'you said Hello there' }));
    expect(reply).toHaveTextContent('Hi, you said Hello there');
    // Stop goes over the socket
    await userEvent.click(screen.getByRole('button', { name: 'Stop' }));
    expect(ws.sent.at(-1)).toEqual({ type: 'stop', session_id: 's1' });
    act(() =>
      ws.push({ type: 'done', request_id: rid, session_id: 's1', provider: 'offline', message: message({ id: 'a', role: 'assistant', content: 'Hi, you said Hello there', status: 'stopped', timestamp: '2026-11-22T05:00:00Z' }) }),
    );
    expect(screen.getByRole('article', { name: 'assistant message' })).toHaveTextContent('Stopped');
    expect(screen.getByRole('button', { name: 'Send' })).toBeInTheDocument();
    expect(screen.getAllByRole('article').map((a) => a.getAttribute('aria-label'))).toEqual(['user message', 'assistant message']);
  });

  it('a refused send puts the text back and shows why', async () => {
    seedAuth();
    api([]);
    renderApp('/chat/s1');
    const ws = await connect();
    await screen.findByText('How can I help?');
    await userEvent.type(screen.getByLabelText('Message'), 'too fast{Enter}');
    const send = ws.sent.find((f) => f.type === 'send')!;
    act(() => ws.push({ type: 'error', request_id: send.request_id, code: 'rate_limited', message: 'slow down' }));
    await waitFor(() => expect(screen.getByLabelText('Message')).toHaveValue('too fast'));
    expect(screen.getByRole('alert')).toHaveTextContent(/not sent: slow down/);
    expect(screen.queryByRole('article', { name: 'user message' })).toBeNull();
  });

  it('re-attaches to a reply still streaming in the loaded history (subscribe + snapshot)', async () => {
    seedAuth();
    api([message({ id: 'u', role: 'user', content: 'Tell me' }), message({ id: 'a', role: 'assistant', content: 'Once', status: 'streaming' })]);
    renderApp('/chat/s1');
    expect(await screen.findByRole('article', { name: 'assistant message' })).toHaveTextContent('Once');
    const ws = await connect();
    await waitFor(() => expect(ws.sent).toContainEqual({ type: 'subscribe', session_id: 's1' }));
    act(() => {
      ws.push({ type: 'snapshot', session_id: 's1', message: message({ id: 'a', role: 'assistant', content: 'Once upon', status: 'streaming' }) });
      ws.push({ type: 'delta', session_id: 's1', message_id: 'a', text: ' a time' });
    });
    expect(screen.getByRole('article', { name: 'assistant message' })).toHaveTextContent('Once upon a time');
    expect(ws.sent.filter((f) => f.type === 'subscribe')).toHaveLength(1);
  });

  it('a "streaming" reply that no longer runs (subscribe → not_found) is shown as interrupted', async () => {
    seedAuth();
    api([message({ id: 'u', role: 'user', content: 'Tell me' }), message({ id: 'a', role: 'assistant', content: 'Once', status: 'streaming' })]);
    renderApp('/chat/s1');
    await screen.findByRole('article', { name: 'assistant message' });
    const ws = await connect();
    await waitFor(() => expect(ws.sent).toContainEqual({ type: 'subscribe', session_id: 's1' }));
    expect(screen.getByRole('button', { name: 'Stop' })).toBeInTheDocument();
    act(() => ws.push({ type: 'error', code: 'not_found', message: 'nothing is running' }));
    await waitFor(() => expect(screen.getByRole('article', { name: 'assistant message' })).toHaveAttribute('data-status', 'interrupted'));
    expect(screen.getByRole('button', { name: 'Send' })).toBeInTheDocument();
    expect(screen.queryByRole('alert')).toBeNull();
  });

  it('falls back to POST /chat/stream (SSE) when no socket can connect', async () => {
    seedAuth();
    const enc = new TextEncoder();
    const fetch = api([], (url, init) => {
      if (url !== '/chat/stream' || init.method !== 'POST') return undefined;
      const body = new ReadableStream<Uint8Array>({
        start(c) {
          const u = message({ id: 'u', role: 'user', content: 'via sse', timestamp: '2026-11-22T05:00:00Z' });
          c.enqueue(enc.encode(`event: message\ndata:${JSON.stringify(u)}\n\n`));
          c.enqueue(enc.encode('event: delta\ndata:{"message_id":"a","text":"SSE "}\n\n'));
          c.enqueue(enc.encode('event: delta\ndata:{"message_id":"a","text":"works"}\n\n'));
          const a = message({ id: 'a', role: 'assistant', content: 'SSE works', timestamp: '2026-11-22T05:00:00Z' });
          c.enqueue(enc.encode(`event: done\ndata:${JSON.stringify({ message: a, provider: 'offline' })}\n\n`));
          c.close();
        },
      });
      return new Response(body, { status: 200, headers: { 'Content-Type': 'text/event-stream' } });
    });
    renderApp('/chat/s1');
    await waitFor(() => expect(FakeWebSocket.instances.length).toBe(1));
    act(() => FakeWebSocket.last.drop(1006));
    await screen.findByText('How can I help?');
    await userEvent.type(screen.getByLabelText('Message'), 'via sse{Enter}');
    await waitFor(() => expect(screen.getByRole('article', { name: 'assistant message' })).toHaveTextContent('SSE works'));
    expect(screen.getByRole('article', { name: 'assistant message' })).toHaveAttribute('data-status', 'complete');
    expect(fetch.mock.calls.some((c) => c[0] === '/chat/stream')).toBe(true);
    expect(screen.getByText('Reconnecting…')).toBeInTheDocument();
  });

  it('applies live session updates, deletions and messages from other devices', async () => {
    seedAuth();
    api([]);
    renderApp('/chat/s1');
    const ws = await connect();
    const nav = screen.getByRole('navigation', { name: 'Chats' });
    await within(nav).findByText('Old chat');
    act(() => ws.push({ type: 'session_updated', session: session('s3', 'From phone', '2026-11-22T09:00:00Z') }));
    expect(within(nav).getAllByRole('link')[0]).toHaveTextContent('From phone');
    act(() => ws.push({ type: 'session_deleted', session_id: 's2' }));
    expect(within(nav).queryByText('Old chat')).toBeNull();
    // A message typed on the other device appears, and its streaming reply gets subscribed to.
    act(() => {
      ws.push({ type: 'message', message: message({ id: 'x', role: 'user', content: 'typed on phone', timestamp: '2026-11-22T09:00:00Z' }) });
      ws.push({ type: 'message', message: message({ id: 'y', role: 'assistant', content: '', status: 'streaming', timestamp: '2026-11-22T09:00:00Z' }) });
    });
    expect(screen.getByRole('article', { name: 'user message' })).toHaveTextContent('typed on phone');
    await waitFor(() => expect(ws.sent).toContainEqual({ type: 'subscribe', session_id: 's1' }));
  });

  it('renames inline and deletes after confirmation', async () => {
    seedAuth();
    const fetch = api([], (url, init) => {
      if (url === '/chat/sessions/s2' && init.method === 'PATCH') {
        return json(200, session('s2', JSON.parse(String(init.body)).title, '2026-11-21T02:00:00Z'));
      }
      if (url === '/chat/sessions/s2' && init.method === 'DELETE') return json(204, null);
      return undefined;
    });
    renderApp('/chat/s1');
    const nav = screen.getByRole('navigation', { name: 'Chats' });
    await userEvent.click(await within(nav).findByRole('button', { name: 'Rename chat Old chat' }));
    const input = within(nav).getByLabelText('Chat title');
    expect(input).toHaveFocus();
    await userEvent.clear(input);
    await userEvent.type(input, 'Renamed{Enter}');
    expect(await within(nav).findByRole('link', { name: 'Renamed' })).toBeInTheDocument();
    expect(fetch.mock.calls.some((c) => c[0] === '/chat/sessions/s2' && c[1]?.method === 'PATCH')).toBe(true);

    await userEvent.click(within(nav).getByRole('button', { name: 'Delete chat Renamed' }));
    const dialog = screen.getByRole('alertdialog', { name: 'Delete this chat?' });
    await userEvent.click(within(dialog).getByRole('button', { name: 'Delete' }));
    await waitFor(() => expect(within(nav).queryByText('Renamed')).toBeNull());
    expect(fetch.mock.calls.some((c) => c[0] === '/chat/sessions/s2' && c[1]?.method === 'DELETE')).toBe(true);
  });

  it('token_expiring opens the modal; "Stay signed in" refreshes and re-authenticates the socket', async () => {
    const exp = Math.floor(Date.now() / 1000) + 360; // the fallback timer would warn in 60 s
    seedAuth(fakeJwt(exp));
    const fresh = fakeJwt(Math.floor(Date.now() / 1000) + 3600, 'j2');
    const fetch = api([], (url, init) => (url === '/auth/refresh' && init.method === 'POST' ? json(200, authResponse(fresh)) : undefined));
    renderApp('/chat/s1');
    const ws = await connect();
    expect(screen.queryByRole('alertdialog')).toBeNull();
    act(() => ws.push({ type: 'token_expiring', expires_at: new Date(exp * 1000).toISOString() }));
    const dialog = await screen.findByRole('alertdialog', { name: 'Your session is about to expire' });
    await userEvent.click(within(dialog).getByRole('button', { name: 'Stay signed in' }));
    await waitFor(() => expect(screen.queryByRole('alertdialog')).toBeNull());
    expect(fetch.mock.calls.some((c) => c[0] === '/auth/refresh')).toBe(true);
    await waitFor(() => expect(ws.sent.at(-1)).toEqual({ type: 'auth', token: fresh }));
    expect(JSON.parse(localStorage.getItem('chatcore.auth')!).token).toBe(fresh);
    // A late warning about the replaced token is ignored.
    act(() => ws.push({ type: 'token_expiring', expires_at: new Date(exp * 1000).toISOString() }));
    expect(screen.queryByRole('alertdialog')).toBeNull();
  });

  it('"Log in again" goes to login and comes back to the same chat with the draft kept', async () => {
    seedAuth(fakeJwt(Math.floor(Date.now() / 1000) + 120)); // < 5 min left: the timer warns at once
    const fresh = fakeJwt(Math.floor(Date.now() / 1000) + 3600, 'j2');
    api([], (url, init) => (url === '/auth/login' && init.method === 'POST' ? json(200, authResponse(fresh)) : undefined));
    renderApp('/chat/s1');
    await connect();
    await userEvent.type(screen.getByLabelText('Message'), 'half-written thought');
    const dialog = await screen.findByRole('alertdialog');
    await userEvent.click(within(dialog).getByRole('button', { name: 'Log in again' }));
    expect(await screen.findByRole('heading', { name: 'Log in' })).toBeInTheDocument();
    expect(screen.getByRole('status')).toHaveTextContent(/session expired/i);
    await userEvent.type(screen.getByLabelText('Email'), 'alice@example.com');
    await userEvent.type(screen.getByLabelText('Password'), 'password1');
    await userEvent.click(screen.getByRole('button', { name: 'Log in' }));
    expect(await screen.findByRole('heading', { name: 'Trip plan' })).toBeInTheDocument();
    expect(screen.getByLabelText('Message')).toHaveValue('half-written thought');
  });

  it('a 4401 close (expired token) sends the user to login', async () => {
    seedAuth();
    api([]);
    renderApp('/chat/s1');
    await waitFor(() => expect(FakeWebSocket.instances.length).toBe(1));
    act(() => {
      FakeWebSocket.last.accept();
      FakeWebSocket.last.drop(4401);
    });
    expect(await screen.findByRole('heading', { name: 'Log in' })).toBeInTheDocument();
    expect(localStorage.getItem('chatcore.auth')).toBeNull();
  });

  it('"Log out" clears the session', async () => {
    seedAuth();
    api([]);
    renderApp('/chat/s1');
    await connect();
    await userEvent.click(screen.getByRole('button', { name: 'Log out' }));
    expect(await screen.findByRole('heading', { name: 'Log in' })).toBeInTheDocument();
    expect(localStorage.getItem('chatcore.auth')).toBeNull();
    expect(FakeWebSocket.last.readyState).toBe(3);
  });

  it('New chat creates a session and opens it', async () => {
    seedAuth();
    api([], (url, init) => {
      if (url === '/chat/sessions' && init.method === 'POST') return json(201, session('s9', 'New chat', '2026-11-22T10:00:00Z'));
      if (url === '/chat/sessions/s9') return json(200, { session: session('s9', 'New chat'), messages: [] });
      return undefined;
    });
    renderApp('/chat/s1');
    await connect();
    await userEvent.click(screen.getByRole('button', { name: 'New chat' }));
    expect(await screen.findByRole('heading', { name: 'New chat' })).toBeInTheDocument();
    const nav = screen.getByRole('navigation', { name: 'Chats' });
    await waitFor(() => expect(within(nav).getAllByRole('link')[0]).toHaveAttribute('aria-current', 'page'));
  });
});
