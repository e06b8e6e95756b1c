import type { Session } from '../api/types';

/**
 * The sidebar's sessions: pages of GET /chat/sessions (following the `Link`
 * rel="next" cursor) merged with the live `session_updated` /
 * `session_deleted` pushes and the local changes.
 *
 * Rules:
 * - one entry per id, newest `updated_at` first (ties: id, descending — v7
 *   ids are time-ordered, like the server's cursor);
 * - a page never overwrites a fresher copy (a live push that arrived while the
 *   page was in flight); a live push always applies;
 * - a deleted id is remembered and never comes back from a later page;
 * - only the prefix the pages have reached is shown: an entry older than the
 *   last paged one waits for its page, so no gap is hidden in the middle;
 * - a refresh (first load, reconnect) replaces the list, then replays the
 *   live pushes that arrived while it was in flight.
 */
export interface SessionList {
  /** Every session known, sorted (see `compareSessions`). */
  items: Session[];
  /** The first page has arrived. */
  loaded: boolean;
  /** Path of the next page; null when the last page has been read. */
  next: string | null;
  /** The oldest entry the pages have reached; entries after it are not shown yet. */
  frontier: Session | null;
  loadingMore: boolean;
  /** Why the last page (or the first load) failed; cleared by a retry. */
  error: string | null;
  deleted: ReadonlySet<string>;
  /** Live changes seen while a refresh is in flight (null when none is). */
  replay: LiveChange[] | null;
}

export type LiveChange = { kind: 'upsert'; session: Session } | { kind: 'touch'; id: string; time: string };

export const initialSessionList: SessionList = {
  items: [],
  loaded: false,
  next: null,
  frontier: null,
  loadingMore: false,
  error: null,
  deleted: new Set(),
  replay: null,
};

export type SessionListAction =
  | { type: 'sessions_refresh_start' }
  | { type: 'sessions_loaded'; sessions: Session[]; next: string | null }
  | { type: 'sessions_failed'; error: string }
  | { type: 'sessions_page_start'; url: string }
  | { type: 'sessions_page_loaded'; url: string; sessions: Session[]; next: string | null }
  | { type: 'sessions_page_failed'; url: string; error: string }
  | { type: 'session_upsert'; session: Session }
  | { type: 'session_touch'; id: string; time: string }
  | { type: 'session_removed'; id: string };

function time(s: Session): number {
  const t = Date.parse(s.updated_at);
  return Number.isNaN(t) ? 0 : t;
}

/** Negative when `a` comes first: most recently updated first, then id descending. */
export function compareSessions(a: Session, b: Session): number {
  const d = time(b) - time(a);
  if (d !== 0) return d;
  return a.id < b.id ? 1 : a.id > b.id ? -1 : 0;
}

export function sortSessions(list: readonly Session[]): Session[] {
  return [...list].sort(compareSessions);
}

function lastOf(list: readonly Session[]): Session | null {
  return list.length ? sortSessions(list)[list.length - 1] : null;
}

/** Adds or replaces entries; on an id both have, `live` decides who wins a tie. */
function merge(items: readonly Session[], incoming: readonly Session[], deleted: ReadonlySet<string>, live: boolean): Session[] {
  const byId = new Map(items.map((s) => [s.id, s]));
  for (const s of incoming) {
    if (deleted.has(s.id)) continue;
    const have = byId.get(s.id);
    const d = have ? time(s) - time(have) : 1;
    if (!have || d > 0 || (d === 0 && live)) byId.set(s.id, s);
  }
  return sortSessions([...byId.values()]);
}

function touch(items: Session[], id: string, at: string): Session[] {
  const s = items.find((x) => x.id === id);
  if (!s || !(Date.parse(at) > time(s))) return items;
  return sortSessions(items.map((x) => (x.id === id ? { ...x, updated_at: at } : x)));
}

function applyLive(items: Session[], change: LiveChange, deleted: ReadonlySet<string>): Session[] {
  return change.kind === 'upsert' ? merge(items, [change.session], deleted, true) : touch(items, change.id, change.time);
}

function record(list: SessionList, change: LiveChange): SessionList {
  return {
    ...list,
    items: applyLive(list.items, change, list.deleted),
    replay: list.replay ? [...list.replay, change] : null,
  };
}

export function sessionListReducer(list: SessionList, action: SessionListAction): SessionList {
  switch (action.type) {
    case 'sessions_refresh_start':
      return { ...list, replay: list.replay ?? [] };
    case 'sessions_loaded': {
      let items = merge([], action.sessions, list.deleted, false);
      for (const change of list.replay ?? []) items = applyLive(items, change, list.deleted);
      return {
        ...list,
        items,
        loaded: true,
        next: action.next,
        frontier: action.next ? lastOf(action.sessions) : null,
        loadingMore: false,
        error: null,
        replay: null,
      };
    }
    case 'sessions_failed':
      return { ...list, replay: null, error: list.loaded ? list.error : action.error };
    case 'sessions_page_start':
      if (action.url !== list.next) return list;
      return { ...list, loadingMore: true, error: null };
    case 'sessions_page_loaded': {
      // A refresh since the request started changed the cursor: this page is stale.
      if (action.url !== list.next) return list;
      // A server that hands back the same cursor would page forever: stop.
      const next = action.next === action.url ? null : action.next;
      const last = lastOf(action.sessions);
      const frontier = !next ? null : last && list.frontier && compareSessions(list.frontier, last) > 0 ? list.frontier : (last ?? list.frontier);
      return {
        ...list,
        items: merge(list.items, action.sessions, list.deleted, false),
        next,
        frontier,
        loadingMore: false,
        error: null,
      };
    }
    case 'sessions_page_failed':
      if (action.url !== list.next) return list;
      return { ...list, loadingMore: false, error: action.error };
    case 'session_upsert':
      return record(list, { kind: 'upsert', session: action.session });
    case 'session_touch':
      return record(list, { kind: 'touch', id: action.id, time: action.time });
    case 'session_removed': {
      const deleted = new Set(list.deleted);
      deleted.add(action.id);
      return { ...list, items: list.items.filter((s) => s.id !== action.id), deleted };
    }
    default:
      return list;
  }
}

/** What the sidebar shows: the entries up to the paging frontier. */
export function visibleSessions(list: SessionList): Session[] {
  const f = list.frontier;
  if (!list.next || !f) return list.items;
  return list.items.filter((s) => compareSessions(s, f) <= 0);
}
