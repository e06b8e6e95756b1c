import { useRef, useState } from 'react';
import type { Session } from '../api/types';
import { ConfirmDialog } from './ConfirmDialog';
import { LoadMore, type PagingState } from './LoadMore';
import { SessionItem } from './SessionItem';

interface SidebarProps {
  sessions: Session[];
  loaded: boolean;
  /** More pages to load, a page loading, why the last one failed. */
  paging: PagingState;
  /** Next page (or, before the first page arrived, the first one again). */
  onLoadMore: () => void;
  activeId: string | null;
  open: boolean;
  onClose: () => void;
  onNewChat: () => void;
  onRename: (id: string, title: string) => Promise<unknown>;
  onDelete: (id: string) => Promise<unknown>;
}

/** Chats, newest first, paged as the list scrolls: new chat, inline rename, delete with confirmation. */
export function Sidebar({ sessions, loaded, paging, onLoadMore, activeId, open, onClose, onNewChat, onRename, onDelete }: SidebarProps) {
  const scrollRef = useRef<HTMLDivElement>(null);
  const [toDelete, setToDelete] = useState<Session | null>(null);
  const [deleting, setDeleting] = useState(false);
  const [error, setError] = useState<string | null>(null);

  async function confirmDelete() {
    if (!toDelete) return;
    setDeleting(true);
    setError(null);
    try {
      await onDelete(toDelete.id);
      setToDelete(null);
    } catch (err) {
      setError(err instanceof Error ? err.message : 'Could not delete the chat.');
    } finally {
      setDeleting(false);
    }
  }

  return (
    <>
      {open && <div className="sidebar-scrim" onClick={onClose} aria-hidden="true" />}
      <nav
        id="sidebar"
        className={`sidebar${open ? ' sidebar--open' : ''}`}
        aria-label="Chats"
        onKeyDown={(e) => {
          if (e.key === 'Escape' && open && !toDelete) onClose();
        }}
      >
        <div className="sidebar__top">
          <button type="button" className="btn btn--primary btn--block" onClick={onNewChat}>
            New chat
          </button>
        </div>
        <div className="sidebar__scroll" ref={scrollRef}>
          {!loaded ? (
            paging.error ? (
              <div className="sidebar__hint">
                <p role="alert">Could not load your chats: {paging.error}</p>
                <button type="button" className="btn btn--small" onClick={onLoadMore}>
                  Retry
                </button>
              </div>
            ) : (
              <p className="sidebar__hint">Loading chats…</p>
            )
          ) : sessions.length === 0 && !paging.hasMore ? (
            <p className="sidebar__hint">No chats yet.</p>
          ) : (
            <>
              <ul className="sidebar__list">
                {sessions.map((s) => (
                  <SessionItem
                    key={s.id}
                    session={s}
                    active={s.id === activeId}
                    onRename={onRename}
                    onAskDelete={setToDelete}
                    onNavigate={onClose}
                  />
                ))}
              </ul>
              <LoadMore {...paging} onLoadMore={onLoadMore} root={scrollRef} />
            </>
          )}
        </div>
      </nav>
      {toDelete && (
        <ConfirmDialog
          title="Delete this chat?"
          confirmLabel="Delete"
          onConfirm={confirmDelete}
          onCancel={() => {
            setToDelete(null);
            setError(null);
          }}
          pending={deleting}
        >
          <p>
            “{toDelete.title}” and its messages will be removed from all your devices.
          </p>
          {error && (
            <p role="alert" className="alert alert--error">
              {error}
            </p>
          )}
        </ConfirmDialog>
      )}
    </>
  );
}
