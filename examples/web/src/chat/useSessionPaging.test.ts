import { renderHook } from '@testing-library/react';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { json, mockFetch, session } from '../test/helpers';
import { initialSessionList, type SessionList } from './sessionList';
import { useSessionPaging } from './useSessionPaging';

afterEach(() => vi.unstubAllGlobals());

function listOf(n: number): SessionList {
  const items = Array.from({ length: n }, (_, i) => session(`s${i}`, `Chat ${i}`, new Date(Date.UTC(2026, 10, 22) - i * 1000).toISOString()));
  return { ...initialSessionList, loaded: true, items };
}

describe('useSessionPaging', () => {
  it.each([
    [0, 50],
    [3, 50],
    [120, 120],
    [450, 200],
  ])('a refresh with %i chats shown re-reads limit=%i from the top', async (shown, limit) => {
    const fetch = mockFetch((url) => (url.startsWith('/chat/sessions?') ? json(200, [], { Link: '</chat/sessions?limit=1&cursor=z>; rel="next"' }) : undefined));
    const dispatch = vi.fn();
    const { result } = renderHook(() => useSessionPaging({ dispatch, getList: () => listOf(shown), onRefreshError: vi.fn() }));
    await result.current.refresh();
    expect(fetch.mock.calls.map((c) => c[0])).toEqual([`/chat/sessions?limit=${limit}`]);
    expect(dispatch.mock.calls.map((c) => c[0])).toEqual([
      { type: 'sessions_refresh_start' },
      { type: 'sessions_loaded', sessions: [], next: '/chat/sessions?limit=1&cursor=z' },
    ]);
  });

  it('only the latest of overlapping refreshes applies, and a failure is reported', async () => {
    let n = 0;
    mockFetch((url) => {
      if (!url.startsWith('/chat/sessions?')) return undefined;
      n++;
      return n === 1 ? new Promise((r) => setTimeout(() => r(json(200, [session('old', 'Old')])), 20)) : json(503, { error: { code: 'unavailable', message: 'Busy' } });
    });
    const dispatch = vi.fn();
    const onRefreshError = vi.fn();
    const { result } = renderHook(() => useSessionPaging({ dispatch, getList: () => listOf(0), onRefreshError }));
    await Promise.all([result.current.refresh(), result.current.refresh()]);
    const types = dispatch.mock.calls.map((c) => c[0].type);
    expect(types).toEqual(['sessions_refresh_start', 'sessions_refresh_start', 'sessions_failed']);
    expect(onRefreshError).toHaveBeenCalledWith('Busy');
  });
});
