import { useCallback, useEffect, useRef, type Dispatch } from 'react';
import { listSessionsPage, SESSION_PAGE_MAX, SESSION_PAGE_SIZE, sessionsPath } from '../api/chat';
import { ApiError } from '../api/http';
import type { ChatAction } from './chatReducer';
import { describeError } from './describeError';
import { visibleSessions, type SessionList } from './sessionList';

interface Options {
  dispatch: Dispatch<ChatAction>;
  /** The list as last rendered. */
  getList: () => SessionList;
  /** A refresh failed (not a 401: that ends the session elsewhere). */
  onRefreshError: (message: string) => void;
}

/**
 * Loads the sidebar's sessions page by page. `refresh` (first load, after a
 * reconnect) re-reads from the top as many sessions as are shown (at least a
 * page, at most 200); `loadMore` follows the `next` cursor, one page at a time.
 */
export function useSessionPaging({ dispatch, getList, onRefreshError }: Options) {
  const mounted = useRef(true);
  const refreshGen = useRef(0);
  const inFlight = useRef<string | null>(null);
  const onErrorRef = useRef(onRefreshError);
  onErrorRef.current = onRefreshError;

  useEffect(() => {
    mounted.current = true;
    return () => {
      mounted.current = false;
    };
  }, []);

  const refresh = useCallback(async () => {
    const gen = ++refreshGen.current;
    const shown = visibleSessions(getList()).length;
    const limit = Math.min(SESSION_PAGE_MAX, Math.max(SESSION_PAGE_SIZE, shown));
    dispatch({ type: 'sessions_refresh_start' });
    try {
      const page = await listSessionsPage(sessionsPath(limit));
      if (mounted.current && gen === refreshGen.current) dispatch({ type: 'sessions_loaded', ...page });
    } catch (err) {
      if (!mounted.current || gen !== refreshGen.current) return;
      if (err instanceof ApiError && err.status === 401) return;
      const message = describeError(err);
      dispatch({ type: 'sessions_failed', error: message });
      onErrorRef.current(message);
    }
  }, [dispatch, getList]);

  const loadMore = useCallback(async () => {
    const list = getList();
    if (!list.loaded) return void refresh();
    const url = list.next;
    if (!url || inFlight.current === url) return;
    inFlight.current = url;
    dispatch({ type: 'sessions_page_start', url });
    try {
      const page = await listSessionsPage(url);
      if (mounted.current) dispatch({ type: 'sessions_page_loaded', url, ...page });
    } catch (err) {
      if (mounted.current) dispatch({ type: 'sessions_page_failed', url, error: describeError(err) });
    } finally {
      if (inFlight.current === url) inFlight.current = null;
    }
  }, [dispatch, getList, refresh]);

  return { refresh, loadMore };
}
