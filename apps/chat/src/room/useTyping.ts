import type { Sender } from '@switchboard/protocol';
import { useCallback, useEffect, useRef, useState } from 'react';
import { applyTypingEvent, expireTyping, TYPING_REFRESH_MS, type TypingUsers } from './typingState.ts';

/** How often expired indicators are swept. */
const EXPIRY_SWEEP_MS = 500;

/**
 * Typing indicators both ways. Incoming `typing` events (ephemeral, never replayed) light a user up until
 * `TYPING_EXPIRY_MS` passes without a refresh; outgoing ones are throttled to one per `TYPING_REFRESH_MS`
 * while the draft is non-empty, and cleared when it empties or is sent.
 */
export function useTyping(myUserId: string, publishTyping: (typing: boolean) => Promise<unknown>) {
  const [typingUsers, setTypingUsers] = useState<TypingUsers>(new Map());
  const lastAnnouncedAt = useRef(0);

  useEffect(() => {
    if (typingUsers.size === 0) return;
    const timer = setInterval(
      () => setTypingUsers((users) => expireTyping(users, Date.now())),
      EXPIRY_SWEEP_MS,
    );
    return () => clearInterval(timer);
  }, [typingUsers.size]);

  const onTypingEvent = useCallback(
    (sender: Sender, typing: boolean) => {
      if (sender.userId === myUserId) return;
      setTypingUsers((users) => applyTypingEvent(users, sender, typing, Date.now()));
    },
    [myUserId],
  );

  /** Call with the draft after every keystroke. */
  const onDraftChange = useCallback(
    (draft: string) => {
      const now = Date.now();
      if (draft.trim().length > 0) {
        if (now - lastAnnouncedAt.current < TYPING_REFRESH_MS) return;
        lastAnnouncedAt.current = now;
        // A lost typing event only costs an indicator for a moment: not worth a retry or an error.
        publishTyping(true).catch(() => {});
      } else if (lastAnnouncedAt.current !== 0) {
        lastAnnouncedAt.current = 0;
        publishTyping(false).catch(() => {});
      }
    },
    [publishTyping],
  );

  /** Call when the draft was sent: the indicator goes away at once instead of expiring. */
  const onDraftSent = useCallback(() => {
    if (lastAnnouncedAt.current === 0) return;
    lastAnnouncedAt.current = 0;
    publishTyping(false).catch(() => {});
  }, [publishTyping]);

  const typingNames = [...typingUsers.values()].map((entry) => entry.name);
  return { typingNames, onTypingEvent, onDraftChange, onDraftSent };
}
