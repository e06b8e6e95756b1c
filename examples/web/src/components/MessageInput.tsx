import { useEffect, useId, useLayoutEffect, useRef, useState, type FormEvent, type KeyboardEvent } from 'react';
import { clearDraft, loadDraft, saveDraft } from '../lib/drafts';

export interface SendOutcome {
  ok: boolean;
  error?: string;
}

interface MessageInputProps {
  userId: string;
  sessionId: string | null;
  /** A reply is being written: show Stop instead of Send. */
  streaming: boolean;
  onSend: (text: string) => Promise<SendOutcome>;
  onStop: () => void;
  disabled?: boolean;
  maxRows?: number;
}

const MAX_CHARS = 32000;

/**
 * Enter sends, Shift+Enter adds a line; the box grows with its content; the
 * draft is kept per session in localStorage and restored if sending fails.
 */
export function MessageInput({ userId, sessionId, streaming, onSend, onStop, disabled, maxRows = 10 }: MessageInputProps) {
  const [text, setText] = useState(() => loadDraft(userId, sessionId));
  const ref = useRef<HTMLTextAreaElement>(null);
  const hintId = useId();
  const inputId = useId();
  const keyRef = useRef({ userId, sessionId });
  keyRef.current = { userId, sessionId };

  // Switching chats loads that chat's draft.
  const first = useRef(true);
  useEffect(() => {
    if (first.current) {
      first.current = false;
      return;
    }
    setText(loadDraft(userId, sessionId));
  }, [userId, sessionId]);

  useEffect(() => {
    if (!disabled) ref.current?.focus();
  }, [sessionId, disabled]);

  // Grow with the content, up to maxRows lines, then scroll.
  useLayoutEffect(() => {
    const el = ref.current;
    if (!el) return;
    el.style.height = 'auto';
    const line = parseFloat(getComputedStyle(el).lineHeight) || 20;
    const max = line * maxRows + 16;
    el.style.height = `${Math.min(el.scrollHeight, max)}px`;
    el.style.overflowY = el.scrollHeight > max ? 'auto' : 'hidden';
  }, [text, maxRows]);

  function update(value: string) {
    setText(value);
    saveDraft(userId, sessionId, value);
  }

  const tooLong = Array.from(text).length > MAX_CHARS;
  const canSend = !disabled && !streaming && text.trim().length > 0 && !tooLong;

  async function submit() {
    if (!canSend) return;
    const content = text;
    const origin = { ...keyRef.current };
    setText('');
    clearDraft(origin.userId, origin.sessionId);
    const res = await onSend(content);
    if (!res.ok) {
      // Put the text back (unless the user already typed something new).
      setText((cur) => {
        const restored = cur ? cur : content;
        saveDraft(keyRef.current.userId, keyRef.current.sessionId, restored);
        return restored;
      });
      ref.current?.focus();
    }
  }

  function onKeyDown(e: KeyboardEvent<HTMLTextAreaElement>) {
    if (e.key === 'Enter' && !e.shiftKey && !e.altKey && !e.ctrlKey && !e.metaKey && !e.nativeEvent.isComposing) {
      e.preventDefault();
      void submit();
    }
  }

  function onSubmit(e: FormEvent) {
    e.preventDefault();
    void submit();
  }

  return (
    <form className="composer" onSubmit={onSubmit}>
      <label htmlFor={inputId} className="visually-hidden">
        Message
      </label>
      <textarea
        ref={ref}
        id={inputId}
        className="composer__input"
        rows={1}
        placeholder="Message chatcore…"
        value={text}
        onChange={(e) => update(e.target.value)}
        onKeyDown={onKeyDown}
        disabled={disabled}
        aria-describedby={hintId}
        aria-invalid={tooLong || undefined}
      />
      <p id={hintId} className={`composer__hint${tooLong ? ' composer__hint--error' : ''}`}>
        {tooLong ? `Too long: at most ${MAX_CHARS.toLocaleString('en')} characters.` : 'Enter to send, Shift+Enter for a new line.'}
      </p>
      {streaming ? (
        <button type="button" className="btn btn--danger composer__btn" onClick={onStop}>
          Stop
        </button>
      ) : (
        <button type="submit" className="btn btn--primary composer__btn" disabled={!canSend}>
          Send
        </button>
      )}
    </form>
  );
}
