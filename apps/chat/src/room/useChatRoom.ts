import { errorMessage, type Session } from '@switchboard/demo-ui';
import { type ChannelEvent, ErrorCode, isSwitchboardError, randomId } from '@switchboard/protocol';
import { chatChannel } from '@switchboard/protocol/demo';
import { useChannel, usePublish, useSwitchboard } from '@switchboard/react';
import { useCallback, useEffect, useReducer, useRef } from 'react';
import { emptyMessageLog, messageLogReducer } from './messageLog.ts';
import { useTyping } from './useTyping.ts';

/** Stored messages replayed when entering a room. */
export const HISTORY_ON_ENTER = 100;

/** Failures that only say the connection was not there: the message waits for it instead of failing. */
const WAIT_FOR_CONNECTION: ReadonlySet<string> = new Set([ErrorCode.TIMEOUT, ErrorCode.CONNECTION_LOST]);

/**
 * Everything the room view needs: messages (history, live, and optimistic local sends), presence, typing
 * indicators and the subscription status.
 */
export function useChatRoom(room: string, session: Session) {
  const client = useSwitchboard();
  const publish = usePublish(chatChannel, room);
  const [log, dispatch] = useReducer(messageLogReducer, emptyMessageLog);

  const publishTyping = useCallback(
    async (typing: boolean) => {
      // Ephemeral: one queued while offline would be stale by the time the connection is back.
      if (client.connection.getSnapshot().status !== 'open') return;
      await publish('typing', { typing });
    },
    [client, publish],
  );
  const typing = useTyping(session.userId, publishTyping);
  const { onTypingEvent } = typing;

  const onEvent = useCallback(
    (event: ChannelEvent<typeof chatChannel>) => {
      const sender = event.sender ?? { userId: 'server', name: 'server' };
      if (event.type === 'typing') {
        onTypingEvent(sender, event.payload.typing);
        return;
      }
      // Only stored events have an id; dedupe and reconciliation both key on it.
      if (event.id === undefined) return;
      // A message ends its author's typing indicator at once.
      onTypingEvent(sender, false);
      dispatch({
        type: 'received',
        id: event.id,
        text: event.payload.text,
        sender,
        ts: event.ts ?? Date.now(),
        correlationId: event.correlationId,
      });
    },
    [onTypingEvent],
  );

  // maxEvents 0: the log above keeps the messages, reconciled with local sends.
  const { status, gap, members, error } = useChannel(chatChannel, room, {
    replay: HISTORY_ON_ENTER,
    maxEvents: 0,
    onEvent,
  });

  /** Messages sent while the connection was away, by correlation id: sent again once it is open. */
  const waiting = useRef(new Map<string, string>());

  const publishMessage = useCallback(
    (correlationId: string, text: string) => {
      // Our own correlation id, not one the client picks: the echo carries it and can arrive before the
      // acknowledgement, so the local copy must be findable by it from the start. It is also the
      // idempotency key, so every resend (after the connection came back, or Retry) carries the original
      // key: a message whose acknowledgement was lost is answered with its stored id, never stored twice.
      publish('message', { text }, { correlationId, idempotencyKey: correlationId }).then(
        (result) => {
          if (result.id) dispatch({ type: 'sendAcked', correlationId, id: result.id });
        },
        (error: unknown) => {
          // Written offline (or while reconnecting): what a chat user expects is that it goes out when
          // the connection is back, not a failure to retry by hand. It stays pending and is resent then.
          const offline = client.connection.getSnapshot().status !== 'open';
          if (offline && isSwitchboardError(error) && WAIT_FOR_CONNECTION.has(error.code)) {
            waiting.current.set(correlationId, text);
            return;
          }
          dispatch({ type: 'sendFailed', correlationId, error: errorMessage(error) });
        },
      );
    },
    [client, publish],
  );

  useEffect(() => {
    const resendWaiting = () => {
      if (client.connection.getSnapshot().status !== 'open') return;
      const resend = [...waiting.current];
      waiting.current.clear();
      for (const [correlationId, text] of resend) publishMessage(correlationId, text);
    };
    // Also at once: the connection may have come back between the failure and this effect.
    resendWaiting();
    return client.connection.subscribe(resendWaiting);
  }, [client, publishMessage]);

  const send = useCallback(
    (text: string) => {
      // Chosen here, not left to publish: the echo can arrive before publish resolves, and Retry reuses it.
      const correlationId = randomId();
      dispatch({
        type: 'sendStarted',
        correlationId,
        text,
        sender: { userId: session.userId, name: session.name },
      });
      typing.onDraftSent();
      publishMessage(correlationId, text);
    },
    [publishMessage, session, typing.onDraftSent],
  );

  const retry = useCallback(
    (correlationId: string) => {
      const message = log.messages.find((m) => m.correlationId === correlationId);
      if (!message) return;
      dispatch({ type: 'retryStarted', correlationId });
      publishMessage(correlationId, message.text);
    },
    [log.messages, publishMessage],
  );

  return {
    messages: log.messages,
    members,
    status,
    gap,
    error,
    typingNames: typing.typingNames,
    onDraftChange: typing.onDraftChange,
    send,
    retry,
  };
}
