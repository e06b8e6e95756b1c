import { useEffect, useRef, type RefObject } from 'react';

export interface PagingState {
  hasMore: boolean;
  loading: boolean;
  error: string | null;
}

interface LoadMoreProps extends PagingState {
  onLoadMore: () => void;
  /** The scrolling element the sentinel is watched in (null: the viewport). */
  root: RefObject<HTMLElement | null>;
  /** How close to the bottom (px) the next page starts loading. */
  margin?: number;
  noun?: string;
}

/**
 * The end of a paged list: loads the next page when it scrolls into view
 * (IntersectionObserver), with a visible "Load more" button for the keyboard
 * and for browsers without the observer, a loading status and a Retry after
 * a failure (no automatic retry, so a failing server is not hammered). One
 * button serves all three states, so keyboard focus stays on it.
 */
export function LoadMore({ hasMore, loading, error, onLoadMore, root, margin = 200, noun = 'chats' }: LoadMoreProps) {
  const sentinel = useRef<HTMLDivElement>(null);
  const button = useRef<HTMLButtonElement>(null);
  const endNote = useRef<HTMLParagraphElement>(null);
  const buttonHadFocus = useRef(false);
  const paged = useRef(false);
  const onLoadRef = useRef(onLoadMore);
  onLoadRef.current = onLoadMore;
  if (hasMore) paged.current = true;
  const auto = hasMore && !loading && !error;
  const showButton = hasMore || !!error;
  // Read before the commit removes the button: did it have focus?
  if (!showButton && button.current && document.activeElement === button.current) buttonHadFocus.current = true;

  // Re-created after every page: observe() reports the current state at once,
  // so a page that does not fill the list loads the next one.
  useEffect(() => {
    const el = sentinel.current;
    if (!auto || !el || typeof IntersectionObserver === 'undefined') return;
    const io = new IntersectionObserver(
      (entries) => {
        if (entries.some((e) => e.isIntersecting)) onLoadRef.current();
      },
      { root: root.current, rootMargin: `0px 0px ${margin}px 0px` },
    );
    io.observe(el);
    return () => io.disconnect();
  }, [auto, root, margin]);

  // The last page came while the button had focus: keep focus at the list's end.
  useEffect(() => {
    if (!showButton && buttonHadFocus.current) {
      buttonHadFocus.current = false;
      endNote.current?.focus();
    }
  }, [showButton]);

  return (
    <div className="loadmore" ref={sentinel}>
      {error && (
        <p className="loadmore__error" role="alert">
          Could not load more {noun}: {error}
        </p>
      )}
      {showButton ? (
        <button
          ref={button}
          type="button"
          className="btn btn--small btn--block"
          aria-disabled={loading || undefined}
          onClick={() => {
            if (!loading) onLoadMore();
          }}
        >
          {loading && <span className="spinner" aria-hidden="true" />}
          {loading ? `Loading more ${noun}…` : error ? 'Retry' : `Load more ${noun}`}
        </button>
      ) : (
        paged.current && (
          <p ref={endNote} className="loadmore__end" tabIndex={-1}>
            All {noun} loaded
          </p>
        )
      )}
      <span className="visually-hidden" role="status">
        {loading ? `Loading more ${noun}…` : ''}
      </span>
    </div>
  );
}
