import { useCallback, useEffect, useLayoutEffect, useRef, useState } from 'react';
import type { Message } from '../api/types';
import { MessageView } from './MessageView';

interface ChatWindowProps {
  sessionId: string | null;
  messages: Message[];
  loading?: boolean;
  error?: string | null;
  /** Pixels from the bottom that still count as "at the bottom". */
  threshold?: number;
}

function isAtBottom(el: HTMLElement, threshold: number): boolean {
  return el.scrollHeight - el.scrollTop - el.clientHeight <= threshold;
}

/**
 * The message list. Follows new content (including streamed text) while the
 * reader is at the bottom; once they scroll up it stays put and offers a
 * "Jump to latest" button.
 */
export function ChatWindow({ sessionId, messages, loading, error, threshold = 48 }: ChatWindowProps) {
  const ref = useRef<HTMLDivElement>(null);
  const stick = useRef(true);
  const [showJump, setShowJump] = useState(false);

  const scrollToBottom = useCallback(() => {
    const el = ref.current;
    if (!el) return;
    el.scrollTop = el.scrollHeight;
  }, []);

  // A newly opened chat starts at the bottom.
  useLayoutEffect(() => {
    stick.current = true;
    setShowJump(false);
  }, [sessionId]);

  useLayoutEffect(() => {
    if (stick.current) scrollToBottom();
    else setShowJump(true);
  }, [messages, scrollToBottom]);

  // Images, fonts or a resized window change the height without new messages.
  useEffect(() => {
    const el = ref.current;
    if (!el || typeof ResizeObserver === 'undefined') return;
    const ro = new ResizeObserver(() => {
      if (stick.current) scrollToBottom();
    });
    ro.observe(el);
    return () => ro.disconnect();
  }, [scrollToBottom]);

  function onScroll() {
    const el = ref.current;
    if (!el) return;
    const bottom = isAtBottom(el, threshold);
    stick.current = bottom;
    setShowJump(!bottom);
  }

  function jump() {
    stick.current = true;
    setShowJump(false);
    scrollToBottom();
  }

  const last = messages[messages.length - 1];
  const finished = last && last.role === 'assistant' && last.status !== 'streaming' ? last : null;

  return (
    <div className="chatwin">
      <div ref={ref} className="chatwin__scroll" onScroll={onScroll} tabIndex={0} aria-label="Messages" role="region">
        {loading && messages.length === 0 && <p className="chatwin__hint">Loading messages…</p>}
        {error === 'not_found' ? (
          <p className="chatwin__hint">This chat does not exist or was deleted.</p>
        ) : error ? (
          <p className="chatwin__hint" role="alert">
            Could not load this chat: {error}
          </p>
        ) : null}
        {!loading && !error && messages.length === 0 && (
          <div className="chatwin__empty">
            <h2>How can I help?</h2>
            <p>Type a message below. Enter sends, Shift+Enter adds a line.</p>
          </div>
        )}
        <div className="chatwin__list">
          {messages.map((m) => (
            <MessageView key={m.id} message={m} />
          ))}
        </div>
      </div>
      {showJump && (
        <button type="button" className="btn btn--small chatwin__jump" onClick={jump}>
          Jump to latest ↓
        </button>
      )}
      <div className="visually-hidden" aria-live="polite">
        {finished ? `Reply ${finished.status === 'complete' ? 'complete' : finished.status}` : ''}
      </div>
    </div>
  );
}
