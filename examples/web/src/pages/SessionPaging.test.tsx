import { act, screen, waitFor, within } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { Session } from '../api/types';
import { FakeWebSocket, json, mockFetch, renderApp, seedAuth, session } from '../test/helpers';

/** s000 is the newest chat; each next one a minute older. */
function chat(n: number, title = `Chat ${n}`): Session {
  const at = new Date(Date.UTC(2026, 10, 22, 12, 0) - n * 60_000).toISOString();
  return session(`s${String(n).padStart(3, '0')}`, title, at);
}
const range = (from: number, to: number) => Array.from({ length: to - from }, (_, i) => chat(from + i));

const FIRST = '/chat/sessions?limit=50';
const P2 = '/chat/sessions?limit=50&cursor=c2';
const P3 = '/chat/sessions?limit=50&cursor=c3';
const link = (path: string) => ({ Link: `<${path}>; rel="next"` });

type Pages = Record<string, () => Response | Promise<Response>>;

/** The API with the given session pages (by exact path); every other route as a plain chat app. */
function api(pages: Pages) {
  return mockFetch((url) => {
    if (url === '/health') return json(200, { status: 'ok', database: 'ok', providers: [] });
    const page = pages[url];
    return page ? page() : undefined;
  });
}

const sessionCalls = (fetch: ReturnType<typeof api>) => fetch.mock.calls.map((c) => String(c[0])).filter((u) => u.startsWith('/chat/sessions?'));

function nav() {
  return screen.getByRole('navigation', { name: 'Chats' });
}
const links = () => within(nav()).queryAllByRole('link');
const titles = () => links().map((l) => l.textContent);

/** A stand-in IntersectionObserver the test scrolls by hand. */
class FakeObserver {
  static instances: FakeObserver[] = [];
  targets: Element[] = [];
  disconnected = false;
  constructor(
    private cb: IntersectionObserverCallback,
    public options: IntersectionObserverInit = {},
  ) {
    FakeObserver.instances.push(this);
  }
  observe(el: Element) {
    this.targets.push(el);
  }
  disconnect() {
    this.disconnected = true;
  }
  unobserve() {}
  takeRecords() {
    return [];
  }
  /** The sentinel scrolled into (or out of) the root's margin. */
  fire(isIntersecting = true) {
    const entries = this.targets.map((target) => ({ target, isIntersecting }) as IntersectionObserverEntry);
    this.cb(entries, this as unknown as IntersectionObserver);
  }
  static live() {
    return FakeObserver.instances.filter((o) => !o.disconnected);
  }
}

beforeEach(() => {
  FakeWebSocket.reset();
  FakeObserver.instances = [];
  vi.stubGlobal('WebSocket', FakeWebSocket);
});
afterEach(() => vi.unstubAllGlobals());

describe('sidebar paging', () => {
  it('without IntersectionObserver, "Load more chats" follows the Link cursor until there is no next; focus stays', async () => {
    seedAuth();
    const fetch = api({
      [FIRST]: () => json(200, range(0, 50), link(P2)),
      [P2]: () => json(200, range(50, 100), { Link: `</chat/sessions?limit=50>; rel="first", <${P3}>; rel="next"` }),
      [P3]: () => json(200, range(100, 120)),
    });
    renderApp('/chat');
    await waitFor(() => expect(links()).toHaveLength(50));
    expect(titles()[0]).toBe('Chat 0');
    const more = within(nav()).getByRole('button', { name: 'Load more chats' });
    more.focus();
    await userEvent.keyboard('{Enter}');
    await waitFor(() => expect(links()).toHaveLength(100));
    expect(more).toHaveFocus();
    await userEvent.keyboard('{Enter}');
    await waitFor(() => expect(links()).toHaveLength(120));
    expect(titles()).toEqual(range(0, 120).map((s) => s.title));
    expect(within(nav()).queryByRole('button', { name: 'Load more chats' })).toBeNull();
    expect(within(nav()).getByText('All chats loaded')).toHaveFocus();
    expect(sessionCalls(fetch)).toEqual([FIRST, P2, P3]);
  });

  it('loads the next page when the sentinel scrolls into view, and stops at the last page', async () => {
    seedAuth();
    const fetch = api({
      [FIRST]: () => json(200, range(0, 50), link(P2)),
      [P2]: () => json(200, range(50, 60)),
    });
    vi.stubGlobal('IntersectionObserver', FakeObserver);
    renderApp('/chat');
    await waitFor(() => expect(links()).toHaveLength(50));
    const [io] = FakeObserver.live();
    expect(io.options.root).toBe(nav().querySelector('.sidebar__scroll'));
    expect(io.targets[0]).toContainElement(within(nav()).getByRole('button', { name: 'Load more chats' }));
    act(() => io.fire(false)); // still far from the bottom
    expect(sessionCalls(fetch)).toEqual([FIRST]);
    act(() => io.fire(true));
    await waitFor(() => expect(links()).toHaveLength(60));
    expect(sessionCalls(fetch)).toEqual([FIRST, P2]);
    // The last page: nothing is watched any more, nothing else is fetched.
    expect(FakeObserver.live()).toHaveLength(0);
    for (const o of FakeObserver.instances) act(() => o.fire(true));
    expect(sessionCalls(fetch)).toEqual([FIRST, P2]);
  });

  it('shows a loading state, then a retryable error for a failed page', async () => {
    seedAuth();
    let fail = true;
    let release: () => void = () => {};
    const fetch = api({
      [FIRST]: () => json(200, range(0, 50), link(P2)),
      [P2]: () =>
        fail
          ? json(503, { error: { code: 'unavailable', message: 'Database busy' } })
          : new Promise<Response>((resolve) => (release = () => resolve(json(200, range(50, 55))))),
    });
    renderApp('/chat');
    await waitFor(() => expect(links()).toHaveLength(50));
    await userEvent.click(within(nav()).getByRole('button', { name: 'Load more chats' }));
    expect(await within(nav()).findByRole('alert')).toHaveTextContent('Could not load more chats: Database busy');
    expect(links()).toHaveLength(50);
    fail = false;
    await userEvent.click(within(nav()).getByRole('button', { name: 'Retry' }));
    const busy = within(nav()).getByRole('button', { name: 'Loading more chats…' });
    expect(busy).toHaveAttribute('aria-disabled', 'true');
    expect(within(nav()).getByRole('status')).toHaveTextContent('Loading more chats…');
    expect(within(nav()).queryByRole('alert')).toBeNull();
    await userEvent.click(busy); // a second click while loading does nothing
    act(() => release());
    await waitFor(() => expect(links()).toHaveLength(55));
    expect(sessionCalls(fetch)).toEqual([FIRST, P2, P2]);
  });

  it('merges live session_updated / session_deleted with pages: one entry each, most recent first', async () => {
    seedAuth();
    let release: () => void = () => {};
    api({
      [FIRST]: () => json(200, range(0, 50), link(P2)),
      // Page 2 as the server read it before the live changes below.
      [P2]: () => new Promise<Response>((resolve) => (release = () => resolve(json(200, range(49, 100))))),
    });
    renderApp('/chat');
    await waitFor(() => expect(links()).toHaveLength(50));
    await waitFor(() => expect(FakeWebSocket.instances.length).toBe(1));
    const ws = FakeWebSocket.last;
    act(() => {
      ws.accept();
      ws.push({ type: 'ready', user: { id: 'u1' }, expires_at: '2026-11-22T13:00:00Z' });
    });
    await userEvent.click(within(nav()).getByRole('button', { name: 'Load more chats' }));
    // While page 2 is in flight: a chat on page 2 is renamed on another device, a chat on
    // page 1 gets a reply, one on page 2 is deleted, a new chat is created.
    act(() => {
      ws.push({ type: 'session_updated', session: { ...chat(60), title: 'Renamed on phone', updated_at: '2026-11-22T12:05:00.000Z' } });
      ws.push({ type: 'session_updated', session: { ...chat(10), updated_at: '2026-11-22T12:03:00.000Z' } });
      ws.push({ type: 'session_deleted', session_id: 's070' });
      ws.push({ type: 'session_updated', session: session('fresh', 'Brand new', '2026-11-22T12:04:00.000Z') });
    });
    expect(titles().slice(0, 3)).toEqual(['Renamed on phone', 'Brand new', 'Chat 10']);
    act(() => release());
    expect(await within(nav()).findByText('All chats loaded')).toBeInTheDocument();
    const expected = [
      'Renamed on phone',
      'Brand new',
      'Chat 10',
      ...range(0, 100)
        .filter((s) => ![10, 60, 70].includes(Number(s.id.slice(1))))
        .map((s) => s.title),
    ];
    expect(titles()).toEqual(expected);
    const hrefs = links().map((l) => l.getAttribute('href'));
    expect(new Set(hrefs).size).toBe(hrefs.length);
    // A later rename of a paged-in chat moves it to the top, still once.
    act(() => ws.push({ type: 'session_updated', session: { ...chat(99), title: 'Back on top', updated_at: '2026-11-22T12:10:00.000Z' } }));
    expect(titles()[0]).toBe('Back on top');
    expect(titles().filter((t) => t === 'Chat 99')).toEqual([]);
    expect(links()).toHaveLength(expected.length);
  });

  it('a failed first load offers Retry in the sidebar', async () => {
    seedAuth();
    let fail = true;
    api({ [FIRST]: () => (fail ? json(500, { error: { code: 'internal', message: 'Oops' } }) : json(200, range(0, 3))) });
    renderApp('/chat');
    expect(await within(nav()).findByRole('alert')).toHaveTextContent('Could not load your chats: Oops');
    fail = false;
    await userEvent.click(within(nav()).getByRole('button', { name: 'Retry' }));
    await waitFor(() => expect(titles()).toEqual(['Chat 0', 'Chat 1', 'Chat 2']));
    expect(within(nav()).queryByRole('button', { name: /Load(ing)? more/ })).toBeNull();
  });
});
