import type { ChannelStatus, ConnectionState } from '@switchboard/client';
import { type Session, useSignOut } from '@switchboard/demo-ui';
import { useConnectionState, useSwitchboard } from '@switchboard/react';
import type { ReactNode } from 'react';
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

/**
 * Why nothing can be sent until the person acts, with the action: the client stopped (credentials refused,
 * or a refusal it does not retry). Null while sending can work, also while offline or reconnecting, when
 * messages wait and go out once the connection is back.
 */
function composerBlocked(
  state: ConnectionState,
  signOut: () => void,
  reconnect: () => void,
): ReactNode | null {
  if (state.status !== 'closed') return null;
  if (state.authError) {
    return (
      <>
        {state.authError === 'forbidden'
          ? 'You are not allowed to send here.'
          : 'Your session is no longer valid.'}{' '}
        <button type="button" className="link" onClick={signOut} data-testid="composer-sign-in">
          Sign in again
        </button>
      </>
    );
  }
  return (
    <>
      Disconnected.{' '}
      <button type="button" className="link" onClick={reconnect}>
        Reconnect
      </button>
    </>
  );
}

/** One chat room: messages, composer, typing line and who is here. */
export function Room({ room, session }: { room: string; session: Session }) {
  const chat = useChatRoom(room, session);
  const client = useSwitchboard();
  const blocked = composerBlocked(useConnectionState(), useSignOut(), () => client.reconnect());
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
        <MessageList
          messages={chat.messages}
          myUserId={session.userId}
          onRetry={blocked ? undefined : chat.retry}
        />
        <p className="typing muted" aria-live="polite" data-testid="typing-indicator">
          {typingSentence(chat.typingNames)}
        </p>
        <Composer room={room} onSend={chat.send} onDraftChange={chat.onDraftChange} blocked={blocked} />
      </section>
      <PresenceList members={chat.members} myUserId={session.userId} />
    </div>
  );
}
