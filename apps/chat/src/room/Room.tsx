import type { ChannelStatus } from '@switchboard/client';
import type { Session } from '@switchboard/demo-ui';
import { Composer } from './Composer.tsx';
import { MessageList } from './MessageList.tsx';
import { PresenceList } from './PresenceList.tsx';
import { typingSentence } from './typingState.ts';
import { useChatRoom } from './useChatRoom.ts';

const STATUS_LABEL: Record<ChannelStatus, string> = {
  subscribing: 'joining…',
  live: '● live',
  resuming: 'reconnecting…',
  closed: 'left',
  error: 'could not join',
};

/** One chat room: messages, composer, typing line and who is here. */
export function Room({ room, session }: { room: string; session: Session }) {
  const chat = useChatRoom(room, session);
  return (
    <div className="room">
      <section className="card conversation" aria-labelledby="room-heading">
        <header className="room-header">
          <h1 id="room-heading" data-testid="room-title">
            #{room}
          </h1>
          <span className="muted" data-testid="room-status" data-status={chat.status}>
            {STATUS_LABEL[chat.status]}
          </span>
        </header>
        {chat.error && (
          <p className="error" role="alert" data-testid="room-error">
            {chat.error.message}
          </p>
        )}
        {chat.gap && (
          <p className="notice" role="status" data-testid="room-gap">
            Some earlier messages could not be recovered after the reconnect.
          </p>
        )}
        <MessageList messages={chat.messages} myUserId={session.userId} onRetry={chat.retry} />
        <p className="typing muted" aria-live="polite" data-testid="typing-indicator">
          {typingSentence(chat.typingNames)}
        </p>
        <Composer room={room} onSend={chat.send} onDraftChange={chat.onDraftChange} />
      </section>
      <PresenceList members={chat.members} myUserId={session.userId} />
    </div>
  );
}
