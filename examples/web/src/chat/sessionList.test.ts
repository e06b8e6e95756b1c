import { describe, expect, it } from 'vitest';
import type { Session } from '../api/types';
import { session } from '../test/helpers';
import { initialSessionList, sessionListReducer as reduce, visibleSessions, type SessionList, type SessionListAction } from './sessionList';

/** s00 is the newest; each next one a minute older. */
function s(n: number, title = `Chat ${n}`): Session {
  const at = new Date(Date.UTC(2026, 10, 22, 12, 0) - n * 60_000).toISOString();
  return session(`s${String(n).padStart(2, '0')}`, title, at);
}
const range = (from: number, to: number) => Array.from({ length: to - from }, (_, i) => s(from + i));
const at = (minutesAfterNoon: number) => new Date(Date.UTC(2026, 10, 22, 12, minutesAfterNoon)).toISOString();

function run(...actions: SessionListAction[]): SessionList {
  return actions.reduce(reduce, initialSessionList);
}
const shown = (l: SessionList) => visibleSessions(l).map((x) => x.id);
const firstPage: SessionListAction[] = [{ type: 'sessions_refresh_start' }, { type: 'sessions_loaded', sessions: range(0, 3), next: '/p2' }];

describe('sessionList', () => {
  it('appends the next page and stops when it has no next', () => {
    let l = run(...firstPage);
    expect(shown(l)).toEqual(['s00', 's01', 's02']);
    expect(l.next).toBe('/p2');
    l = reduce(l, { type: 'sessions_page_start', url: '/p2' });
    expect(l.loadingMore).toBe(true);
    l = reduce(l, { type: 'sessions_page_loaded', url: '/p2', sessions: range(3, 5), next: null });
    expect(shown(l)).toEqual(['s00', 's01', 's02', 's03', 's04']);
    expect(l).toMatchObject({ next: null, loadingMore: false, error: null });
  });

  it('overlapping pages and live pushes give one entry per session, newest first', () => {
    let l = run(...firstPage);
    // While page 2 is in flight: s03 (still on page 2 there) is renamed on another device,
    // s01 gets a new message, s04 is deleted, a new chat is created.
    l = reduce(l, { type: 'sessions_page_start', url: '/p2' });
    l = reduce(l, { type: 'session_upsert', session: { ...s(3, 'Renamed live'), updated_at: at(5) } });
    l = reduce(l, { type: 'session_touch', id: 's01', time: at(3) });
    l = reduce(l, { type: 'session_removed', id: 's04' });
    l = reduce(l, { type: 'session_upsert', session: session('new', 'Brand new', at(4)) });
    // The page was read before all that: old s03, s04 still there, and s02 again (overlap).
    l = reduce(l, { type: 'sessions_page_loaded', url: '/p2', sessions: [s(2), s(3), s(4), s(5)], next: null });
    expect(shown(l)).toEqual(['s03', 'new', 's01', 's00', 's02', 's05']);
    expect(visibleSessions(l).find((x) => x.id === 's03')?.title).toBe('Renamed live');
    expect(new Set(shown(l)).size).toBe(shown(l).length);
  });

  it('a page with a fresher copy than ours updates it; an equal one does not undo a live rename', () => {
    let l = run(...firstPage, { type: 'session_upsert', session: { ...s(1), title: 'Live title' } });
    l = reduce(l, { type: 'sessions_page_loaded', url: '/p2', sessions: [s(1), { ...s(2), title: 'Newer', updated_at: at(9) }], next: null });
    expect(visibleSessions(l).map((x) => x.title)).toEqual(['Newer', 'Chat 0', 'Live title']);
  });

  it('shows only what the pages reached: an old session pushed live waits for its page', () => {
    let l = run(...firstPage);
    l = reduce(l, { type: 'session_upsert', session: s(30, 'Old, renamed without a new time') });
    expect(shown(l)).toEqual(['s00', 's01', 's02']);
    l = reduce(l, { type: 'sessions_page_loaded', url: '/p2', sessions: range(3, 6), next: '/p3' });
    expect(shown(l)).toEqual(['s00', 's01', 's02', 's03', 's04', 's05']);
    l = reduce(l, { type: 'sessions_page_loaded', url: '/p3', sessions: [s(29), s(30), s(31)], next: null });
    expect(shown(l)).toEqual(['s00', 's01', 's02', 's03', 's04', 's05', 's29', 's30', 's31']);
    expect(visibleSessions(l).find((x) => x.id === 's30')?.title).toBe('Old, renamed without a new time');
  });

  it('a refresh replaces the list and replays the live pushes made while it was in flight', () => {
    let l = run(...firstPage, { type: 'sessions_page_loaded', url: '/p2', sessions: range(3, 5), next: null });
    l = reduce(l, { type: 'sessions_refresh_start' });
    l = reduce(l, { type: 'session_upsert', session: session('new', 'Made meanwhile', at(7)) });
    l = reduce(l, { type: 'session_removed', id: 's00' });
    // The response was computed before those, and s02 was deleted while we were offline.
    l = reduce(l, { type: 'sessions_loaded', sessions: [s(0), s(1), s(3), s(4)], next: null });
    expect(shown(l)).toEqual(['new', 's01', 's03', 's04']);
    expect(l.replay).toBeNull();
  });

  it('ignores a page whose cursor a refresh has replaced, and a server that repeats its cursor', () => {
    let l = run(...firstPage);
    l = reduce(l, { type: 'sessions_loaded', sessions: range(0, 3), next: '/p2-fresh' });
    const stale = reduce(l, { type: 'sessions_page_loaded', url: '/p2', sessions: [s(9)], next: '/p3' });
    expect(stale).toBe(l);
    l = reduce(l, { type: 'sessions_page_loaded', url: '/p2-fresh', sessions: range(3, 4), next: '/p2-fresh' });
    expect(l.next).toBeNull();
  });

  it('a failed page keeps the list and records a retryable error; a failed first load too', () => {
    let l = run(...firstPage, { type: 'sessions_page_start', url: '/p2' });
    l = reduce(l, { type: 'sessions_page_failed', url: '/p2', error: 'boom' });
    expect(l).toMatchObject({ error: 'boom', loadingMore: false, next: '/p2' });
    expect(shown(l)).toEqual(['s00', 's01', 's02']);
    l = reduce(l, { type: 'sessions_page_start', url: '/p2' });
    expect(l.error).toBeNull();
    expect(run({ type: 'sessions_refresh_start' }, { type: 'sessions_failed', error: 'down' })).toMatchObject({ loaded: false, error: 'down' });
  });
});
