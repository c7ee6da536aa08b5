import { useEffect, useRef } from 'react';
import type { ChatMessage } from './messageLog.ts';

const timeFormat = new Intl.DateTimeFormat(undefined, { hour: '2-digit', minute: '2-digit' });

const STATUS_LABEL = { pending: 'Sending…', sent: 'Sent', failed: 'Not sent' } as const;

/** The room's messages, newest at the bottom, kept scrolled to the end as new ones arrive. */
export function MessageList({
  messages,
  myUserId,
  onRetry,
}: {
  messages: readonly ChatMessage[];
  myUserId: string;
  /** Absent while a retry cannot work (the client stopped): failed messages then show no Retry. */
  onRetry: ((correlationId: string) => void) | undefined;
}) {
  const endRef = useRef<HTMLLIElement>(null);
  useEffect(() => {
    endRef.current?.scrollIntoView({ block: 'end' });
  }, [messages.length]);

  if (messages.length === 0) {
    return (
      <p className="empty muted" data-testid="no-messages">
        No messages yet. Say hello!
      </p>
    );
  }
  return (
    <ol className="messages" role="log" aria-label="Messages" data-testid="messages">
      {messages.map((message) => {
        const mine = message.sender.userId === myUserId;
        return (
          <li
            key={message.key}
            className={`message${mine ? ' mine' : ''} status-${message.status}`}
            data-testid="message"
            data-status={message.status}
            data-id={message.id}
          >
            <div className="message-meta">
              <strong data-testid="message-author">
                {mine ? 'You' : (message.sender.name ?? message.sender.userId)}
              </strong>
              <time dateTime={new Date(message.ts).toISOString()}>{timeFormat.format(message.ts)}</time>
              {mine && (
                <span className="message-status" data-testid="message-status">
                  {STATUS_LABEL[message.status]}
                </span>
              )}
            </div>
            <p className="message-text" data-testid="message-text">
              {message.text}
            </p>
            {message.status === 'failed' && message.correlationId && (
              <p className="error message-failure">
                {message.error}{' '}
                {onRetry && (
                  <button
                    type="button"
                    className="secondary"
                    onClick={() => onRetry(message.correlationId!)}
                    data-testid="message-retry"
                  >
                    Retry
                  </button>
                )}
              </p>
            )}
          </li>
        );
      })}
      <li ref={endRef} aria-hidden="true" className="messages-end" />
    </ol>
  );
}
