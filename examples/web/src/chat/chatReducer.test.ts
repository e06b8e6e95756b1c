import { describe, expect, it } from 'vitest';
import { message, session } from '../test/helpers';
import { chatReducer, initialChatState, type ChatState } from './chatReducer';

function opened(): ChatState {
  let s = chatReducer(initialChatState, { type: 'sessions_loaded', sessions: [session('s1', 'A', '2026-11-22T01:00:00Z'), session('s2', 'B', '2026-11-22T02:00:00Z')], next: null });
  s = chatReducer(s, { type: 'open', id: 's1' });
  return s;
}

describe('chatReducer', () => {
  it('sorts sessions newest first and moves a session up on a new message', () => {
    let s = opened();
    expect(s.list.items.map((x) => x.id)).toEqual(['s2', 's1']);
    s = chatReducer(s, { type: 'message', message: message({ id: 'm', role: 'user', content: 'x', timestamp: '2026-11-22T03:00:00Z' }) });
    expect(s.list.items.map((x) => x.id)).toEqual(['s1', 's2']);
  });

  it('appends deltas, ignores late ones after done, and creates a placeholder for an unknown reply', () => {
    let s = opened();
    s = chatReducer(s, { type: 'history_loaded', session: session('s1', 'A'), messages: [] });
    s = chatReducer(s, { type: 'delta', sessionId: 's1', messageId: 'r', text: 'Hel' });
    s = chatReducer(s, { type: 'delta', sessionId: 's1', messageId: 'r', text: 'lo' });
    expect(s.current!.messages[0]).toMatchObject({ id: 'r', role: 'assistant', content: 'Hello', status: 'streaming' });
    s = chatReducer(s, { type: 'done', message: message({ id: 'r', role: 'assistant', content: 'Hello!', status: 'complete' }) });
    s = chatReducer(s, { type: 'delta', sessionId: 's1', messageId: 'r', text: 'late' });
    expect(s.current!.messages[0]).toMatchObject({ content: 'Hello!', status: 'complete' });
  });

  it('a snapshot replaces the text so far', () => {
    let s = opened();
    s = chatReducer(s, {
      type: 'history_loaded',
      session: session('s1', 'A'),
      messages: [message({ id: 'r', role: 'assistant', content: 'He', status: 'streaming' })],
    });
    s = chatReducer(s, { type: 'snapshot', message: message({ id: 'r', role: 'assistant', content: 'Hello wor', status: 'streaming' }) });
    s = chatReducer(s, { type: 'delta', sessionId: 's1', messageId: 'r', text: 'ld' });
    expect(s.current!.messages[0].content).toBe('Hello world');
  });

  it('confirms an optimistic message by request id and orders user before reply', () => {
    let s = opened();
    s = chatReducer(s, { type: 'history_loaded', session: session('s1', 'A'), messages: [] });
    s = chatReducer(s, {
      type: 'optimistic_add',
      message: { ...message({ id: 'pending-1', role: 'user', content: 'hi' }), pending: true, client_request_id: 'q1' },
    });
    s = chatReducer(s, { type: 'message', message: message({ id: 'r', role: 'assistant', content: '', status: 'streaming', timestamp: '2026-11-22T05:00:00Z' }) });
    s = chatReducer(s, { type: 'message', requestId: 'q1', message: message({ id: 'u', role: 'user', content: 'hi', timestamp: '2026-11-22T05:00:00Z' }) });
    expect(s.current!.messages.map((m) => m.id)).toEqual(['u', 'r']);
    expect(s.current!.messages.some((m) => m.pending)).toBe(false);
  });

  it('ignores events of other sessions for the message list', () => {
    let s = opened();
    s = chatReducer(s, { type: 'history_loaded', session: session('s1', 'A'), messages: [] });
    s = chatReducer(s, { type: 'message', message: message({ id: 'x', role: 'user', content: 'elsewhere', session_id: 's2' }) });
    expect(s.current!.messages).toEqual([]);
  });

  it('keeps fresher local streaming text over an older stored copy', () => {
    let s = opened();
    s = chatReducer(s, { type: 'history_loaded', session: session('s1', 'A'), messages: [message({ id: 'r', role: 'assistant', content: 'Hello', status: 'streaming' })] });
    s = chatReducer(s, { type: 'delta', sessionId: 's1', messageId: 'r', text: ' world' });
    s = chatReducer(s, { type: 'history_loaded', session: session('s1', 'A'), messages: [message({ id: 'r', role: 'assistant', content: 'Hello w', status: 'streaming' })] });
    expect(s.current!.messages[0].content).toBe('Hello world');
  });

  it('keeps the server order of the loaded history, even with equal timestamps', () => {
    let s = opened();
    const t = '2026-11-22T01:00:00Z';
    const msgs = [
      message({ id: '1', role: 'user', content: 'a', timestamp: t }),
      message({ id: '2', role: 'assistant', content: 'b', timestamp: t }),
      message({ id: '3', role: 'user', content: 'c', timestamp: t }),
      message({ id: '4', role: 'assistant', content: 'd', timestamp: t }),
    ];
    s = chatReducer(s, { type: 'history_loaded', session: session('s1', 'A'), messages: msgs });
    expect(s.current!.messages.map((m) => m.id)).toEqual(['1', '2', '3', '4']);
    s = chatReducer(s, { type: 'message', message: message({ id: '5', role: 'user', content: 'e', timestamp: t }) });
    expect(s.current!.messages.map((m) => m.id)).toEqual(['1', '2', '3', '4', '5']);
  });
});
