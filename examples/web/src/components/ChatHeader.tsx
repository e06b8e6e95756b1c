import type { SocketStatus } from '../api/socket';
import { Icon } from './Icon';

interface ChatHeaderProps {
  title: string;
  provider: string | null;
  model: string | null;
  offline: boolean;
  socketStatus: SocketStatus;
  username?: string;
  sidebarOpen: boolean;
  onToggleSidebar: () => void;
  onLogout: () => void;
}

const STATUS_TEXT: Record<SocketStatus, string> = {
  open: 'Live',
  connecting: 'Connecting…',
  down: 'Reconnecting…',
  closed: 'Offline',
};

export function ChatHeader(props: ChatHeaderProps) {
  const { title, provider, model, offline, socketStatus, username, sidebarOpen, onToggleSidebar, onLogout } = props;
  return (
    <header className="chathead">
      <button
        type="button"
        className="icon-btn chathead__menu"
        aria-label="Show chats"
        aria-controls="sidebar"
        aria-expanded={sidebarOpen}
        onClick={onToggleSidebar}
      >
        <Icon name="menu" />
      </button>
      <div className="chathead__main">
        <h1 className="chathead__title">{title}</h1>
        <p className="chathead__meta">
          {provider ? (
            <span data-testid="answered-by">
              Answered by <strong>{provider}</strong>
              {model ? <> · {model}</> : null}
            </span>
          ) : null}
          <span className={`conn conn--${socketStatus}`} title="Real-time connection">
            <span className="conn__dot" aria-hidden="true" /> {STATUS_TEXT[socketStatus]}
          </span>
        </p>
        {offline && (
          <p className="chathead__offline" role="note">
            Offline model: no LLM provider is configured on this server, so replies come from a built-in stand-in.
          </p>
        )}
      </div>
      <div className="chathead__user">
        {username && <span className="chathead__username">{username}</span>}
        <button type="button" className="btn" onClick={onLogout}>
          Log out
        </button>
      </div>
    </header>
  );
}
