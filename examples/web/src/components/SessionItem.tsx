import { useEffect, useRef, useState, type FormEvent, type KeyboardEvent } from 'react';
import { NavLink } from 'react-router';
import type { Session } from '../api/types';
import { Icon } from './Icon';

interface SessionItemProps {
  session: Session;
  active: boolean;
  onRename: (id: string, title: string) => Promise<unknown>;
  onAskDelete: (session: Session) => void;
  onNavigate?: () => void;
}

export function SessionItem({ session, active, onRename, onAskDelete, onNavigate }: SessionItemProps) {
  const [editing, setEditing] = useState(false);
  const [title, setTitle] = useState(session.title);
  const [error, setError] = useState<string | null>(null);
  const [saving, setSaving] = useState(false);
  const inputRef = useRef<HTMLInputElement>(null);
  const renameBtn = useRef<HTMLButtonElement>(null);

  useEffect(() => {
    if (editing) {
      inputRef.current?.focus();
      inputRef.current?.select();
    }
  }, [editing]);

  function start() {
    setTitle(session.title);
    setError(null);
    setEditing(true);
  }

  function cancel() {
    setEditing(false);
    setError(null);
    requestAnimationFrame(() => renameBtn.current?.focus());
  }

  async function save(e?: FormEvent) {
    e?.preventDefault();
    if (saving) return;
    const next = title.trim();
    if (next === session.title) return cancel();
    const n = Array.from(next).length;
    if (n < 1 || n > 200) {
      setError('A title needs 1 to 200 characters.');
      return;
    }
    setSaving(true);
    try {
      await onRename(session.id, next);
      setEditing(false);
      requestAnimationFrame(() => renameBtn.current?.focus());
    } catch (err) {
      setError(err instanceof Error ? err.message : 'Could not rename.');
    } finally {
      setSaving(false);
    }
  }

  function onKeyDown(e: KeyboardEvent<HTMLInputElement>) {
    if (e.key === 'Escape') {
      e.preventDefault();
      cancel();
    }
  }

  if (editing) {
    return (
      <li className="session session--editing">
        <form onSubmit={save} className="session__rename">
          <label className="visually-hidden" htmlFor={`rename-${session.id}`}>
            Chat title
          </label>
          <input
            id={`rename-${session.id}`}
            ref={inputRef}
            value={title}
            onChange={(e) => setTitle(e.target.value)}
            onKeyDown={onKeyDown}
            onBlur={() => {
              if (!saving) void save();
            }}
            aria-invalid={error ? true : undefined}
            maxLength={400}
            disabled={saving}
          />
          {error && (
            <p className="field__error" role="alert">
              {error}
            </p>
          )}
        </form>
      </li>
    );
  }

  return (
    <li className={`session${active ? ' session--active' : ''}`} data-session-id={session.id}>
      <NavLink
        to={`/chat/${session.id}`}
        className="session__link"
        aria-current={active ? 'page' : undefined}
        onClick={onNavigate}
        title={session.title}
      >
        {session.title}
      </NavLink>
      <div className="session__actions">
        <button ref={renameBtn} type="button" className="icon-btn" onClick={start} aria-label={`Rename chat ${session.title}`} title="Rename">
          <Icon name="edit" />
        </button>
        <button
          type="button"
          className="icon-btn"
          onClick={() => onAskDelete(session)}
          aria-label={`Delete chat ${session.title}`}
          title="Delete"
        >
          <Icon name="trash" />
        </button>
      </div>
    </li>
  );
}
