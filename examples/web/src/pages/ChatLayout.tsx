import { useCallback, useEffect, useMemo, useRef, useState } from 'react';
import { useNavigate, useParams } from 'react-router';
import { useAuth } from '../auth/AuthContext';
import { useTokenExpiry } from '../auth/useTokenExpiry';
import { useChat } from '../chat/useChat';
import { isOfflineOnly, useHealth } from '../chat/useHealth';
import { ChatHeader } from '../components/ChatHeader';
import { ChatWindow } from '../components/ChatWindow';
import { ExpiryModal } from '../components/ExpiryModal';
import { Icon } from '../components/Icon';
import { MessageInput } from '../components/MessageInput';
import { Sidebar } from '../components/Sidebar';

/** /chat and /chat/:sessionId: sidebar, header, messages, input, expiry modal. */
export function ChatLayout() {
  const { sessionId = null } = useParams();
  const navigate = useNavigate();
  const auth = useAuth();
  const { user, token, expiresAt, getToken, logout, refresh } = auth;
  const [sidebarOpen, setSidebarOpen] = useState(false);
  const [serverWarned, setServerWarned] = useState(false);
  const [dismissedFor, setDismissedFor] = useState<string | null>(null);
  const healthInfo = useHealth();

  const expiresAtRef = useRef(expiresAt);
  expiresAtRef.current = expiresAt;
  const expire = useCallback(() => logout('expired'), [logout]);
  const timerWarning = useTokenExpiry(expiresAt, expire);

  const goTo = useCallback((id: string | null) => navigate(id ? `/chat/${id}` : '/chat'), [navigate]);

  const chat = useChat({
    sessionId,
    getToken,
    token,
    goTo,
    onExpiring: (at) => {
      // Ignore a late warning about a token we have already replaced.
      const t = Date.parse(at);
      const current = expiresAtRef.current;
      if (!Number.isNaN(t) && current !== null && t < current - 5000) return;
      setServerWarned(true);
    },
    onAuthRejected: expire,
  });

  // A fresh token clears the warning.
  useEffect(() => {
    setServerWarned(false);
  }, [token]);

  const current = chat.current;
  const title = current?.session?.title ?? (sessionId ? (current?.error === 'not_found' ? 'Chat not found' : '') : 'New chat');

  useEffect(() => {
    document.title = title ? `${title} · chatcore` : 'chatcore';
  }, [title]);

  const lastAnswer = useMemo(() => {
    const msgs = current?.messages ?? [];
    for (let i = msgs.length - 1; i >= 0; i--) {
      if (msgs[i].role === 'assistant' && msgs[i].provider) return msgs[i];
    }
    return null;
  }, [current]);

  const showExpiry = (serverWarned || timerWarning) && !!token && dismissedFor !== token;

  const onStay = useCallback(async () => {
    await refresh(); // the socket re-authenticates with the new token (useChat)
  }, [refresh]);

  const onLogout = useCallback(() => {
    navigate('/auth/login', { replace: true });
    logout('user');
  }, [navigate, logout]);

  if (!user) return null;

  return (
    <div className="layout">
      <a href="#composer" className="skip-link">
        Skip to message box
      </a>
      <Sidebar
        sessions={chat.sessions}
        loaded={chat.sessionsLoaded}
        paging={chat.sessionsPaging}
        onLoadMore={() => void chat.loadMoreSessions()}
        activeId={sessionId}
        open={sidebarOpen}
        onClose={() => setSidebarOpen(false)}
        onNewChat={() => {
          setSidebarOpen(false);
          void chat.newChat();
        }}
        onRename={chat.rename}
        onDelete={chat.remove}
      />
      <main className="chat">
        <ChatHeader
          title={title || 'Loading…'}
          provider={lastAnswer?.provider ?? null}
          model={lastAnswer?.model ?? null}
          offline={isOfflineOnly(healthInfo) || lastAnswer?.provider === 'offline'}
          socketStatus={chat.socketStatus}
          username={user.username}
          sidebarOpen={sidebarOpen}
          onToggleSidebar={() => setSidebarOpen((o) => !o)}
          onLogout={onLogout}
        />
        {chat.notice && (
          <div className="notice" role="alert">
            <span>{chat.notice}</span>
            <button type="button" className="icon-btn" aria-label="Dismiss" onClick={chat.dismissNotice}>
              <Icon name="close" />
            </button>
          </div>
        )}
        <ChatWindow
          sessionId={sessionId}
          messages={current?.messages ?? []}
          loading={current?.loading}
          error={current?.error}
        />
        <div id="composer">
          <MessageInput
            userId={user.id}
            sessionId={sessionId}
            streaming={chat.streaming}
            onSend={chat.send}
            onStop={() => void chat.stop()}
            disabled={current?.error === 'not_found'}
          />
        </div>
      </main>
      {showExpiry && (
        <ExpiryModal
          expiresAt={expiresAt}
          onStay={onStay}
          onLogInAgain={expire}
          onDismiss={() => setDismissedFor(token)}
        />
      )}
    </div>
  );
}
