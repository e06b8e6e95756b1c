import type { Message, Session } from '../api/types';
import { initialSessionList, sessionListReducer, type SessionList, type SessionListAction } from './sessionList';

export interface CurrentChat {
  id: string;
  session: Session | null;
  messages: Message[];
  loading: boolean;
  /** 'not_found' or a human message */
  error: string | null;
}

export interface ChatState {
  /** The sidebar's sessions, paged and merged with live changes (sessionList.ts). */
  list: SessionList;
  current: CurrentChat | null;
}

export const initialChatState: ChatState = { list: initialSessionList, current: null };

export type ChatAction =
  | SessionListAction
  | { type: 'open'; id: string | null }
  | { type: 'history_loaded'; session: Session; messages: Message[] }
  | { type: 'history_failed'; id: string; error: string }
  | { type: 'message'; message: Message; requestId?: string }
  | { type: 'snapshot'; message: Message }
  | { type: 'delta'; sessionId: string; messageId: string; text: string }
  | { type: 'done'; message: Message }
  | { type: 'stream_error'; sessionId: string; messageId?: string }
  | { type: 'not_running'; sessionId: string; messageId: string }
  | { type: 'optimistic_add'; message: Message }
  | { type: 'optimistic_remove'; requestId: string };

/**
 * Places a new message: the server's order is kept as loaded, new messages go
 * at the end (before optimistic ones); a user message that arrives after the
 * streaming reply to it (a race between channels) goes before that reply.
 */
export function insertMessage(list: Message[], msg: Message): Message[] {
  const next = list.slice();
  let at = next.length;
  while (at > 0 && next[at - 1].pending) at--;
  if (msg.role === 'user' && !msg.pending) {
    const t = Date.parse(msg.timestamp);
    while (
      at > 0 &&
      next[at - 1].role === 'assistant' &&
      next[at - 1].status === 'streaming' &&
      !(Date.parse(next[at - 1].timestamp) < t)
    ) {
      at--;
    }
  }
  if (msg.pending) at = next.length;
  next.splice(at, 0, msg);
  return next;
}

function withCurrent(state: ChatState, sessionId: string, fn: (c: CurrentChat) => CurrentChat): ChatState {
  const c = state.current;
  if (!c || c.id !== sessionId) return state;
  return { ...state, current: fn(c) };
}

function upsertMessage(list: Message[], msg: Message, requestId?: string): Message[] {
  const idx = list.findIndex((m) => m.id === msg.id);
  if (idx !== -1) {
    const next = list.slice();
    next[idx] = { ...msg };
    return next;
  }
  // Confirm an optimistic user message: same request id, else same content.
  if (msg.role === 'user') {
    let p = requestId ? list.findIndex((m) => m.pending && m.client_request_id === requestId) : -1;
    if (p === -1) p = list.findIndex((m) => m.pending && m.content === msg.content);
    if (p !== -1) {
      const next = list.slice();
      next.splice(p, 1);
      return insertMessage(next, msg);
    }
  }
  return insertMessage(list, msg);
}

export function chatReducer(state: ChatState, action: ChatAction): ChatState {
  switch (action.type) {
    case 'sessions_refresh_start':
    case 'sessions_loaded':
    case 'sessions_failed':
    case 'sessions_page_start':
    case 'sessions_page_loaded':
    case 'sessions_page_failed':
    case 'session_touch':
    case 'session_removed':
      return { ...state, list: sessionListReducer(state.list, action) };
    case 'session_upsert': {
      const list = sessionListReducer(state.list, action);
      return withCurrent({ ...state, list }, action.session.id, (c) => ({ ...c, session: action.session }));
    }
    case 'open':
      if (action.id === null) return { ...state, current: null };
      if (state.current?.id === action.id) return state;
      return {
        ...state,
        current: {
          id: action.id,
          session: state.list.items.find((s) => s.id === action.id) ?? null,
          messages: [],
          loading: true,
          error: null,
        },
      };
    case 'history_loaded':
      return withCurrent(state, action.session.id, (c) => {
        // A reply we are attached to may be fresher locally than the stored text
        // (the server flushes about once a second): keep the longer local text.
        const local = new Map(c.messages.map((m) => [m.id, m]));
        const merged = action.messages.map((m) => {
          const l = local.get(m.id);
          if (l && l.status === 'streaming' && m.status === 'streaming' && l.content.length > m.content.length) {
            return { ...m, content: l.content };
          }
          return m;
        });
        const ids = new Set(merged.map((m) => m.id));
        // Keep messages that arrived live but are not in this (older) snapshot.
        const extra = c.messages.filter((m) => !ids.has(m.id) && !m.pending && m.status === 'streaming');
        const pending = c.messages.filter((m) => m.pending);
        let messages = merged;
        for (const m of extra) messages = insertMessage(messages, m);
        for (const p of pending) {
          if (!messages.some((m) => m.role === 'user' && m.content === p.content)) messages = insertMessage(messages, p);
        }
        return { ...c, session: action.session, messages, loading: false, error: null };
      });
    case 'history_failed':
      return withCurrent(state, action.id, (c) => ({ ...c, loading: false, error: action.error }));
    case 'message': {
      const m = action.message;
      const list = sessionListReducer(state.list, { type: 'session_touch', id: m.session_id, time: m.timestamp });
      return withCurrent({ ...state, list }, m.session_id, (c) => ({
        ...c,
        messages: upsertMessage(c.messages, m, action.requestId),
      }));
    }
    case 'snapshot':
    case 'done':
      return withCurrent(state, action.message.session_id, (c) => ({
        ...c,
        messages: upsertMessage(c.messages, action.message),
      }));
    case 'delta':
      return withCurrent(state, action.sessionId, (c) => {
        const idx = c.messages.findIndex((m) => m.id === action.messageId);
        if (idx === -1) {
          const placeholder: Message = {
            id: action.messageId,
            session_id: action.sessionId,
            role: 'assistant',
            content: action.text,
            timestamp: new Date().toISOString(),
            status: 'streaming',
            provider: null,
            model: null,
            usage: null,
          };
          return { ...c, messages: insertMessage(c.messages, placeholder) };
        }
        const m = c.messages[idx];
        if (m.status !== 'streaming') return c; // a late delta after `done`
        const next = c.messages.slice();
        next[idx] = { ...m, content: m.content + action.text };
        return { ...c, messages: next };
      });
    case 'stream_error':
      return withCurrent(state, action.sessionId, (c) => ({
        ...c,
        messages: c.messages.map((m) =>
          (action.messageId ? m.id === action.messageId : m.role === 'assistant' && m.status === 'streaming')
            ? { ...m, status: 'error' }
            : m,
        ),
      }));
    case 'not_running':
      return withCurrent(state, action.sessionId, (c) => ({
        ...c,
        messages: c.messages.map((m) =>
          m.id === action.messageId && m.status === 'streaming' ? { ...m, status: 'interrupted' } : m,
        ),
      }));
    case 'optimistic_add':
      return withCurrent(state, action.message.session_id, (c) => ({
        ...c,
        messages: [...c.messages, action.message],
      }));
    case 'optimistic_remove':
      if (!state.current) return state;
      return {
        ...state,
        current: {
          ...state.current,
          messages: state.current.messages.filter((m) => !(m.pending && m.client_request_id === action.requestId)),
        },
      };
    default:
      return state;
  }
}
