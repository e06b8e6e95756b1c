import { useCallback, useEffect, useMemo, useReducer, useRef, useState } from 'react';
import * as chatApi from '../api/chat';
import { ApiError } from '../api/http';
import { ChatSocket, defaultSocketUrl, type SocketStatus } from '../api/socket';
import { attachChatStream, postChatStream } from '../api/sse';
import type { Message, ServerFrame, StreamEvent } from '../api/types';
import { randomId } from '../lib/id';
import { chatReducer, initialChatState } from './chatReducer';
import { describeError as describe } from './describeError';
import { visibleSessions } from './sessionList';
import { useSessionPaging } from './useSessionPaging';

export interface SendResult {
  ok: boolean;
  error?: string;
}

export interface UseChatOptions {
  sessionId: string | null;
  getToken: () => string | null;
  /** Current token: when it changes (refresh), the socket re-authenticates. */
  token: string | null;
  onExpiring: (expiresAt: string) => void;
  onAuthRejected: () => void;
  /** Go to a session (or to /chat with null), e.g. after creating or deleting one. */
  goTo: (sessionId: string | null) => void;
  socketUrl?: string;
}

type Attachment = { kind: 'ws'; conn: number } | { kind: 'sse'; abort: AbortController };

interface PendingRequest {
  sessionId: string;
  content: string;
  resolve: (r: SendResult) => void;
  timer: ReturnType<typeof setTimeout>;
}

const ACK_TIMEOUT_MS = 20000;

/**
 * Chat state and transport: sessions, the open session's messages, the
 * WebSocket (with reconnect) and the SSE fallback for sending and re-attaching.
 */
export function useChat(opts: UseChatOptions) {
  const { sessionId } = opts;
  const [state, dispatch] = useReducer(chatReducer, initialChatState);
  const [socketStatus, setSocketStatus] = useState<SocketStatus>('connecting');
  const [connection, setConnection] = useState(0);
  const [notice, setNotice] = useState<string | null>(null);
  const [attachTick, setAttachTick] = useState(0);

  const optsRef = useRef(opts);
  optsRef.current = opts;
  const stateRef = useRef(state);
  stateRef.current = state;
  const socketRef = useRef<ChatSocket | null>(null);
  const connRef = useRef(0);
  const attachRef = useRef(new Map<string, Attachment>());
  const pendingRef = useRef(new Map<string, PendingRequest>());
  /** session id → id of the streaming reply we subscribed to (awaiting its snapshot) */
  const subscribesRef = useRef(new Map<string, string>());
  const mountedRef = useRef(true);

  // ---- loading -------------------------------------------------------------

  const getList = useCallback(() => stateRef.current.list, []);
  const onRefreshError = useCallback((message: string) => setNotice(`Could not load your chats: ${message}`), []);
  const { refresh: loadSessions, loadMore: loadMoreSessions } = useSessionPaging({ dispatch, getList, onRefreshError });

  /**
   * GET /chat/sessions/{id}. `notRunning`: the server just said no generation
   * runs for this reply, so if the store still calls it `streaming` it is a
   * leftover (it becomes `interrupted` at the server's next start): show it so.
   */
  const loadHistory = useCallback(async (id: string, signal?: AbortSignal, notRunning?: string) => {
    try {
      const res = await chatApi.getSession(id, signal);
      if (!mountedRef.current) return;
      dispatch({ type: 'history_loaded', session: res.session, messages: res.messages });
      if (notRunning) dispatch({ type: 'not_running', sessionId: id, messageId: notRunning });
    } catch (err) {
      if (signal?.aborted || !mountedRef.current) return;
      const error = err instanceof ApiError && err.status === 404 ? 'not_found' : describe(err);
      dispatch({ type: 'history_failed', id, error });
    }
  }, []);

  const sessionsReloadTimer = useRef<ReturnType<typeof setTimeout> | null>(null);
  const reloadSessionsSoon = useCallback(() => {
    if (sessionsReloadTimer.current) return;
    sessionsReloadTimer.current = setTimeout(() => {
      sessionsReloadTimer.current = null;
      void loadSessions();
    }, 300);
  }, [loadSessions]);

  // ---- stream events (shared by WS frames and SSE) -------------------------

  const finishAttachment = useCallback((sid: string, only?: Attachment) => {
    const a = attachRef.current.get(sid);
    if (a && (!only || a === only)) attachRef.current.delete(sid);
  }, []);

  const handleStreamEvent = useCallback(
    (sid: string, ev: StreamEvent, requestId?: string, attachment?: Attachment) => {
      switch (ev.type) {
        case 'message':
          dispatch({ type: 'message', message: ev.message, requestId });
          if (!stateRef.current.list.items.some((s) => s.id === ev.message.session_id)) reloadSessionsSoon();
          break;
        case 'snapshot':
          dispatch({ type: 'snapshot', message: { ...ev.message, session_id: ev.message.session_id ?? sid } });
          break;
        case 'delta':
          dispatch({ type: 'delta', sessionId: sid, messageId: ev.message_id, text: ev.text });
          break;
        case 'done':
          dispatch({ type: 'done', message: ev.message });
          finishAttachment(sid, attachment);
          break;
        case 'error':
          dispatch({ type: 'stream_error', sessionId: sid, messageId: ev.message_id });
          setNotice(`The reply failed: ${ev.message}`);
          finishAttachment(sid, attachment);
          break;
      }
    },
    [finishAttachment, reloadSessionsSoon],
  );

  const resolvePending = useCallback((requestId: string, result: SendResult) => {
    const p = pendingRef.current.get(requestId);
    if (!p) return false;
    pendingRef.current.delete(requestId);
    clearTimeout(p.timer);
    p.resolve(result);
    return true;
  }, []);

  // ---- WebSocket -----------------------------------------------------------

  const onFrame = useCallback(
    (f: ServerFrame) => {
      switch (f.type) {
        case 'message': {
          if (f.request_id) resolvePending(f.request_id, { ok: true });
          else if (f.message.role === 'user') {
            for (const [rid, p] of pendingRef.current) {
              if (p.sessionId === f.message.session_id && p.content === f.message.content) {
                resolvePending(rid, { ok: true });
                break;
              }
            }
          }
          handleStreamEvent(f.message.session_id, { type: 'message', message: f.message }, f.request_id);
          break;
        }
        case 'snapshot':
          subscribesRef.current.delete(f.session_id);
          handleStreamEvent(f.session_id, { type: 'snapshot', message: { ...f.message, session_id: f.session_id } });
          break;
        case 'delta':
          handleStreamEvent(f.session_id, { type: 'delta', message_id: f.message_id, text: f.text });
          break;
        case 'done':
          handleStreamEvent(f.session_id, { type: 'done', message: f.message, provider: f.provider });
          break;
        case 'error': {
          if (f.request_id && resolvePending(f.request_id, { ok: false, error: f.message })) {
            // The send was refused before it started (validation, conflict, rate limit…).
            break;
          }
          const cur = stateRef.current.current;
          if (f.code === 'not_found') {
            // subscribe raced with the end of the generation, or stop found
            // nothing running: re-read the stored reply.
            const subs = [...subscribesRef.current];
            subscribesRef.current.clear();
            for (const [sid] of subs) finishAttachment(sid);
            const mine = subs.find(([sid]) => sid === cur?.id)?.[1];
            // Without a pending subscribe, this answers a `stop`: nothing runs in the open chat.
            const leftover =
              mine ?? (subs.length === 0 ? cur?.messages.find((m) => m.role === 'assistant' && m.status === 'streaming')?.id : undefined);
            if (cur) void loadHistory(cur.id, undefined, leftover);
            break;
          }
          const sid = f.session_id ?? cur?.id;
          if (sid && f.code !== 'bad_request') {
            dispatch({ type: 'stream_error', sessionId: sid, messageId: f.message_id });
            finishAttachment(sid);
            setNotice(`The reply failed: ${f.message}`);
            if (cur?.id === sid) setTimeout(() => void loadHistory(sid), 500);
          }
          break;
        }
        case 'session_updated':
          dispatch({ type: 'session_upsert', session: f.session });
          break;
        case 'session_deleted': {
          dispatch({ type: 'session_removed', id: f.session_id });
          if (stateRef.current.current?.id === f.session_id) {
            setNotice('This chat was deleted.');
            optsRef.current.goTo(null);
          }
          break;
        }
        case 'token_expiring':
          optsRef.current.onExpiring(f.expires_at);
          break;
        default:
          break;
      }
    },
    [finishAttachment, handleStreamEvent, loadHistory, resolvePending],
  );

  useEffect(() => {
    mountedRef.current = true;
    const socket = new ChatSocket({
      url: optsRef.current.socketUrl ?? defaultSocketUrl(),
      getToken: () => optsRef.current.getToken(),
      onFrame: (f) => onFrame(f),
      onStatus: (status, conn) => {
        if (!mountedRef.current) return;
        if (status !== 'open') {
          // Unacknowledged sends on a lost socket: the history re-read after reconnect tells.
          for (const rid of [...pendingRef.current.keys()]) {
            resolvePending(rid, { ok: false, error: 'The connection was lost before the message was confirmed.' });
          }
          subscribesRef.current.clear();
        }
        const reconnected = status === 'open' && conn > 1 && conn !== connRef.current;
        connRef.current = conn;
        setConnection(conn);
        setSocketStatus(status);
        if (reconnected) {
          // We may have missed pushes while disconnected: re-read.
          void loadSessions();
          const cur = stateRef.current.current;
          if (cur) void loadHistory(cur.id);
        }
      },
      onAuthRejected: () => optsRef.current.onAuthRejected(),
    });
    socketRef.current = socket;
    socket.start();
    void loadSessions();
    const attachments = attachRef.current;
    const pending = pendingRef.current;
    return () => {
      mountedRef.current = false;
      socket.stop();
      socketRef.current = null;
      for (const a of attachments.values()) if (a.kind === 'sse') a.abort.abort();
      attachments.clear();
      for (const p of pending.values()) clearTimeout(p.timer);
      pending.clear();
      if (sessionsReloadTimer.current) clearTimeout(sessionsReloadTimer.current);
    };
  }, [loadSessions, loadHistory, onFrame, resolvePending]);

  // A refreshed token re-authenticates the open socket (no reconnect needed).
  const lastToken = useRef(opts.token);
  useEffect(() => {
    if (opts.token && lastToken.current && opts.token !== lastToken.current) {
      socketRef.current?.reauth(opts.token);
    }
    lastToken.current = opts.token;
  }, [opts.token]);

  // ---- the open session ----------------------------------------------------

  useEffect(() => {
    dispatch({ type: 'open', id: sessionId });
    setNotice(null);
    if (!sessionId) return;
    const ac = new AbortController();
    void loadHistory(sessionId, ac.signal);
    return () => ac.abort();
  }, [sessionId, loadHistory]);

  const current = state.current;
  const streamingMessage = useMemo(
    () => current?.messages.find((m) => m.role === 'assistant' && m.status === 'streaming' && !m.pending) ?? null,
    [current],
  );
  const streamingId = streamingMessage?.id ?? null;

  // Re-attach to a reply that is still being written (after a reload, on
  // another device, or after the socket dropped): WS subscribe, else SSE.
  useEffect(() => {
    if (!current || current.loading || !streamingId) return;
    const sid = current.id;
    const a = attachRef.current.get(sid);
    if (a && (a.kind === 'sse' || (a.conn === connection && socketStatus === 'open'))) return;
    if (socketStatus === 'open') {
      const att: Attachment = { kind: 'ws', conn: connection };
      attachRef.current.set(sid, att);
      subscribesRef.current.set(sid, streamingId);
      socketRef.current?.send({ type: 'subscribe', session_id: sid });
      return;
    }
    if (socketStatus === 'connecting') return; // wait for the first connection attempt
    const att: Attachment = { kind: 'sse', abort: new AbortController() };
    attachRef.current.set(sid, att);
    attachChatStream(sid, (ev) => handleStreamEvent(sid, ev, undefined, att), att.abort.signal).then(
      (running) => {
        finishAttachment(sid, att);
        if (stateRef.current.current?.id === sid) void loadHistory(sid, undefined, running ? undefined : streamingId);
      },
      (err) => {
        finishAttachment(sid, att);
        if (att.abort.signal.aborted || !mountedRef.current) return;
        if (err instanceof ApiError && err.status === 404) return void loadHistory(sid);
        setTimeout(() => mountedRef.current && setAttachTick((n) => n + 1), 2000);
      },
    );
  }, [current, streamingId, socketStatus, connection, attachTick, handleStreamEvent, finishAttachment, loadHistory]);

  // Leaving a session stops SSE re-attachments to it (WS ones are harmless).
  useEffect(() => {
    const attachments = attachRef.current;
    return () => {
      if (!sessionId) return;
      const a = attachments.get(sessionId);
      if (a?.kind === 'sse') {
        a.abort.abort();
        attachments.delete(sessionId);
      }
    };
  }, [sessionId]);

  // ---- actions -------------------------------------------------------------

  const waitForSocket = useCallback(async (ms: number) => {
    const start = Date.now();
    while (socketRef.current?.currentStatus === 'connecting' && Date.now() - start < ms) {
      await new Promise((r) => setTimeout(r, 50));
    }
  }, []);

  const sendViaSse = useCallback(
    (sid: string, content: string, requestId: string): Promise<SendResult> => {
      const att: Attachment = { kind: 'sse', abort: new AbortController() };
      attachRef.current.set(sid, att);
      return new Promise<SendResult>((resolve) => {
        let acked = false;
        postChatStream(
          sid,
          content,
          (ev) => {
            handleStreamEvent(sid, ev, requestId, att);
            if (ev.type === 'message' && !acked) {
              acked = true;
              resolve({ ok: true });
            }
          },
          att.abort.signal,
        ).then(
          () => {
            finishAttachment(sid, att);
            if (!acked) resolve({ ok: true });
            // Without a socket there are no session_updated pushes: re-read the titles.
            if (socketRef.current?.currentStatus !== 'open') void loadSessions();
          },
          (err) => {
            finishAttachment(sid, att);
            if (!acked) resolve({ ok: false, error: describe(err) });
            else if (mountedRef.current && !att.abort.signal.aborted) setAttachTick((n) => n + 1);
          },
        );
      });
    },
    [finishAttachment, handleStreamEvent, loadSessions],
  );

  const send = useCallback(
    async (raw: string): Promise<SendResult> => {
      const content = raw;
      if (!content.trim()) return { ok: false, error: 'Type a message first.' };
      setNotice(null);
      let sid = optsRef.current.sessionId;
      if (!sid) {
        try {
          const s = await chatApi.createSession();
          dispatch({ type: 'session_upsert', session: s });
          dispatch({ type: 'open', id: s.id });
          optsRef.current.goTo(s.id);
          sid = s.id;
        } catch (err) {
          const error = describe(err);
          setNotice(`Could not start a chat: ${error}`);
          return { ok: false, error };
        }
      }
      const requestId = randomId();
      const optimistic: Message = {
        id: `pending-${requestId}`,
        session_id: sid,
        role: 'user',
        content,
        timestamp: new Date().toISOString(),
        status: 'complete',
        provider: null,
        model: null,
        usage: null,
        pending: true,
        client_request_id: requestId,
      };
      dispatch({ type: 'optimistic_add', message: optimistic });

      await waitForSocket(3000);
      const socket = socketRef.current;
      let result: SendResult;
      if (socket?.isOpen) {
        const sessionForReq = sid;
        result = await new Promise<SendResult>((resolve) => {
          const timer = setTimeout(
            () => resolvePending(requestId, { ok: false, error: 'The server did not confirm the message.' }),
            ACK_TIMEOUT_MS,
          );
          pendingRef.current.set(requestId, { sessionId: sessionForReq, content, resolve, timer });
          attachRef.current.set(sessionForReq, { kind: 'ws', conn: connRef.current });
          if (!socket.send({ type: 'send', request_id: requestId, session_id: sessionForReq, content })) {
            resolvePending(requestId, { ok: false, error: 'Not connected.' });
          }
        });
        if (!result.ok) finishAttachment(sid);
      } else {
        result = await sendViaSse(sid, content, requestId);
      }
      if (!result.ok) {
        dispatch({ type: 'optimistic_remove', requestId });
        if (mountedRef.current) setNotice(`Your message was not sent: ${result.error}`);
        // It may have been stored after all (lost connection): re-read.
        if (mountedRef.current && stateRef.current.current?.id === sid) void loadHistory(sid);
      }
      return result;
    },
    [finishAttachment, loadHistory, resolvePending, sendViaSse, waitForSocket],
  );

  const stop = useCallback(async () => {
    const sid = stateRef.current.current?.id;
    if (!sid) return;
    if (socketRef.current?.send({ type: 'stop', session_id: sid })) return;
    try {
      await chatApi.stopGeneration(sid);
    } catch (err) {
      if (err instanceof ApiError && err.status === 404) {
        const leftover = stateRef.current.current?.messages.find((m) => m.role === 'assistant' && m.status === 'streaming');
        void loadHistory(sid, undefined, leftover?.id);
      } else setNotice(`Could not stop the reply: ${describe(err)}`);
    }
  }, [loadHistory]);

  const newChat = useCallback(async () => {
    try {
      const s = await chatApi.createSession();
      dispatch({ type: 'session_upsert', session: s });
      optsRef.current.goTo(s.id);
      return s;
    } catch (err) {
      setNotice(`Could not start a chat: ${describe(err)}`);
      return null;
    }
  }, []);

  const rename = useCallback(async (id: string, title: string) => {
    const s = await chatApi.renameSession(id, title);
    dispatch({ type: 'session_upsert', session: s });
    return s;
  }, []);

  const remove = useCallback(async (id: string) => {
    await chatApi.deleteSession(id);
    dispatch({ type: 'session_removed', id });
    if (optsRef.current.sessionId === id) optsRef.current.goTo(null);
  }, []);

  const streaming = !!streamingMessage || !!current?.messages.some((m) => m.pending);

  const list = state.list;
  const sessions = useMemo(() => visibleSessions(list), [list]);
  const sessionsPaging = useMemo(
    () => ({ hasMore: !!list.next, loading: list.loadingMore, error: list.error }),
    [list.next, list.loadingMore, list.error],
  );

  return {
    sessions,
    sessionsLoaded: list.loaded,
    sessionsPaging,
    loadMoreSessions,
    current,
    streaming,
    socketStatus,
    notice,
    dismissNotice: () => setNotice(null),
    send,
    stop,
    newChat,
    rename,
    remove,
  };
}

export type ChatController = ReturnType<typeof useChat>;
