import { memo } from 'react';
import type { Message } from '../api/types';
import { Markdown } from './Markdown';

const STATUS_TEXT: Partial<Record<Message['status'], string>> = {
  stopped: 'Stopped',
  error: 'Error: the reply failed',
  interrupted: 'Interrupted',
};

/** One message: `role="article"` named "user message" / "assistant message". */
export const MessageView = memo(function MessageView({ message }: { message: Message }) {
  const isUser = message.role === 'user';
  const status = message.pending ? 'sending' : message.status;
  const label = STATUS_TEXT[message.status];
  const empty = !message.content && message.status !== 'streaming';
  return (
    <article
      className={`msg msg--${message.role} msg--${status}`}
      aria-label={`${message.role} message`}
      aria-busy={message.status === 'streaming' || undefined}
      data-status={status}
      data-message-id={message.id}
    >
      <div className="msg__who" aria-hidden="true">
        {isUser ? 'You' : 'Assistant'}
      </div>
      <div className="msg__body">
        {isUser ? (
          <Markdown text={message.content} breaks />
        ) : empty ? (
          <p className="msg__empty">{message.status === 'error' ? 'No reply could be generated.' : '(empty reply)'}</p>
        ) : (
          <Markdown text={message.content} />
        )}
        {message.status === 'streaming' && (
          <span className="msg__cursor" aria-label="Writing…" role="img" />
        )}
      </div>
      {(label || message.pending || (!isUser && message.provider)) && (
        <div className="msg__meta">
          {message.pending && <span className="badge">Sending…</span>}
          {label && <span className={`badge badge--${message.status}`}>{label}</span>}
          {!isUser && message.provider && (
            <span className="msg__provider">
              {message.provider}
              {message.model ? ` · ${message.model}` : ''}
            </span>
          )}
        </div>
      )}
    </article>
  );
});
