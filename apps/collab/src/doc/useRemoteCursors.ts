import type { ChannelHandle } from '@switchboard/client';
import { type OtClient, utf16ToCodePoints } from '@switchboard/collab';
import type { Session } from '@switchboard/demo-ui';
import type { ChannelEvent } from '@switchboard/protocol';
import { collabChannel } from '@switchboard/protocol/demo';
import { useChannel, useConnectionState, usePublish, useSwitchboard } from '@switchboard/react';
import { type RefObject, useCallback, useEffect, useRef, useState } from 'react';
import { type RemoteCursors, transformCursors } from './remoteCursors.ts';
import type { CollabDoc } from './useCollabDoc.ts';
import { userColor } from './userColor.ts';

/** At most one cursor event per this interval while the caret moves (the last position always goes out). */
const CURSOR_THROTTLE_MS = 80;

/**
 * Cursors both ways on `collab:<docId>`: other users' carets and selections (ephemeral `cursor` events,
 * moved through every op applied here), and this user's own, published as it moves. Also who is here.
 */
export function useRemoteCursors(
  docId: string,
  doc: CollabDoc,
  session: Session,
  textareaRef: RefObject<HTMLTextAreaElement | null>,
) {
  const [cursors, setCursors] = useState<RemoteCursors>(new Map());
  const publish = usePublish(collabChannel, docId);
  const { ot, addChangeListener } = doc;

  const onEvent = useCallback(
    (event: ChannelEvent<typeof collabChannel>) => {
      const sender = event.sender;
      if (event.type !== 'cursor' || !sender || sender.userId === session.userId) return;
      const { anchor, head, color } = event.payload;
      setCursors((current) =>
        new Map(current).set(sender.userId, {
          userId: sender.userId,
          name: sender.name ?? sender.userId,
          color,
          anchor,
          head,
        }),
      );
    },
    [session.userId],
  );
  const { members } = useChannel(collabChannel, docId, { maxEvents: 0, onEvent });

  useEffect(
    () => addChangeListener((change) => setCursors((current) => transformCursors(current, change.op))),
    [addChangeListener],
  );

  useOwnCursor(ot, textareaRef, session, publish, members.length);

  // A user who left takes their cursor along.
  const present = new Set(members.map((member) => member.userId));
  const visible = [...cursors.values()].filter((cursor) => present.has(cursor.userId));
  return { cursors: visible, members };
}

/** Publishes this user's selection (code points) while the textarea has focus, throttled. */
function useOwnCursor(
  ot: OtClient | null,
  textareaRef: RefObject<HTMLTextAreaElement | null>,
  session: Session,
  publish: ChannelHandle<typeof collabChannel>['publish'],
  memberCount: number,
) {
  const { connection } = useSwitchboard();
  const lastSentAt = useRef(0);
  const trailing = useRef<ReturnType<typeof setTimeout> | undefined>(undefined);
  const focused = useRef(false);

  const sendNow = useCallback(() => {
    const el = textareaRef.current;
    if (!el || !ot || !focused.current) return;
    // Ephemeral: one queued while offline would be stale by the time the connection is back.
    if (connection.getSnapshot().status !== 'open') return;
    lastSentAt.current = Date.now();
    const start = utf16ToCodePoints(el.value, el.selectionStart);
    const end = utf16ToCodePoints(el.value, el.selectionEnd);
    const backward = el.selectionDirection === 'backward';
    publish('cursor', {
      version: ot.version,
      anchor: backward ? end : start,
      head: backward ? start : end,
      color: userColor(session.userId),
    }).catch(() => {
      // Cursors are ephemeral and sent again on the next move: a lost one is not worth an error.
    });
  }, [connection, ot, publish, session.userId, textareaRef]);

  const schedule = useCallback(() => {
    clearTimeout(trailing.current);
    const wait = CURSOR_THROTTLE_MS - (Date.now() - lastSentAt.current);
    if (wait <= 0) sendNow();
    else trailing.current = setTimeout(sendNow, wait);
  }, [sendNow]);

  useEffect(() => {
    const el = textareaRef.current;
    if (!el) return;
    const onFocus = () => {
      focused.current = true;
      schedule();
    };
    const onBlur = () => {
      focused.current = false;
    };
    const onSelectionChange = () => {
      if (document.activeElement === el) schedule();
    };
    el.addEventListener('focus', onFocus);
    el.addEventListener('blur', onBlur);
    el.addEventListener('input', schedule);
    el.addEventListener('select', schedule);
    document.addEventListener('selectionchange', onSelectionChange);
    if (document.activeElement === el) onFocus();
    return () => {
      el.removeEventListener('focus', onFocus);
      el.removeEventListener('blur', onBlur);
      el.removeEventListener('input', schedule);
      el.removeEventListener('select', schedule);
      document.removeEventListener('selectionchange', onSelectionChange);
      clearTimeout(trailing.current);
    };
  }, [schedule, textareaRef]);

  // Someone joined, or we are back after a reconnect: show where we are without waiting for the next move.
  const { status } = useConnectionState();
  useEffect(() => {
    if (status === 'open' && memberCount > 1) schedule();
  }, [status, memberCount, schedule]);
}
