import { createOtClient, type OtClient, type OtClientSnapshot, type TextChange } from '@switchboard/collab';
import type { AppRouter } from '@switchboard/demo-server';
import { errorMessage } from '@switchboard/demo-ui';
import { useConnectionState, useSwitchboard } from '@switchboard/react';
import { useCallback, useEffect, useRef, useState, useSyncExternalStore } from 'react';
import { isRefusal } from './errorCode.ts';

/** After a submit failed on an open connection (rate limit, server hiccup), it is sent again this much later. */
const SUBMIT_RETRY_MS = 1000;

type ChangeListener = (change: TextChange) => void;

export interface CollabDoc {
  ot: OtClient | null;
  snapshot: OtClientSnapshot | null;
  /** Why the document cannot be shown, when it cannot. */
  error: string | null;
  /** Something the user should know that did not stop editing (the document was reloaded). */
  notice: string | null;
  /** Listens to every change of the text (local, remote, reset); returns the unsubscribe function. */
  addChangeListener: (listener: ChangeListener) => () => void;
}

const noSubscription = () => () => {};
const noSnapshot = () => null;

/**
 * One shared document: `collab.open`, an OT client (one op in flight, the rest pending), and the
 * `collab.ops` stream from the client's version. After a reconnect the stream restarts from the version the
 * client has and the unacknowledged op is sent again with its op id, so offline edits arrive exactly once.
 * `userId` is the signed-in user: op ids are scoped to their author, so only our own ops acknowledge ours.
 */
export function useCollabDoc(docId: string, userId: string): CollabDoc {
  const client = useSwitchboard<AppRouter>();
  const { status } = useConnectionState();
  const [ot, setOt] = useState<OtClient | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [notice, setNotice] = useState<string | null>(null);
  // Bumped to restart the ops stream from the client's current version.
  const [streamGeneration, setStreamGeneration] = useState(0);
  const [listeners] = useState(() => new Set<ChangeListener>());
  const disconnected = useRef(false);

  /** Starts over from the server's copy, when ours cannot be reconciled (refused op, op log moved on). */
  const reload = useCallback(
    async (target: OtClient, reason: string) => {
      const doc = await client.trpc.collab.open.query({ docId });
      target.reset(doc);
      setNotice(reason);
      setStreamGeneration((generation) => generation + 1);
    },
    [client, docId],
  );

  useEffect(() => {
    let cancelled = false;
    let retryTimer: ReturnType<typeof setTimeout> | undefined;
    setOt(null);
    setError(null);
    setNotice(null);
    client.trpc.collab.open.query({ docId }).then(
      (doc) => {
        if (cancelled) return;
        const created = createOtClient({
          version: doc.version,
          text: doc.text,
          userId,
          submit: (op, version, opId) => client.trpc.collab.submit.mutate({ docId, version, op, opId }),
          onChange: (change) => {
            for (const listener of listeners) listener(change);
          },
          onSubmitError: (cause) => {
            if (cancelled) return;
            // Refused for good (BAD_REQUEST, or CONFLICT: an op id reused for another op): resending cannot help.
            if (isRefusal(cause)) {
              reload(created, 'The server refused an edit, so the document was reloaded.').catch(
                (e: unknown) => setError(errorMessage(e)),
              );
            } else if (client.connection.getSnapshot().status === 'open') {
              retryTimer = setTimeout(() => created.reconnected(), SUBMIT_RETRY_MS);
            }
            // Otherwise the connection is down: the reconnect effect below sends it again.
          },
        });
        setOt(created);
      },
      (cause: unknown) => {
        if (!cancelled) setError(errorMessage(cause));
      },
    );
    return () => {
      cancelled = true;
      clearTimeout(retryTimer);
    };
  }, [client, docId, listeners, reload, userId]);

  // The stream runs only while connected, and starts from the version the client has: tRPC would resume a
  // stream by itself after a reconnect, but from the version it was first opened at, which the op log may
  // no longer reach.
  const online = status === 'open';
  useEffect(() => {
    if (!ot || !online) return;
    let restarting = false;
    const subscription = client.trpc.collab.ops.subscribe(
      { docId, fromVersion: ot.version },
      {
        // Items are tracked (`{ id, data }`, id = version): a stream tRPC resumes by itself continues after
        // the last op received.
        onData({ data: committed }) {
          if (ot.receive(committed) === 'gap' && !restarting) {
            restarting = true;
            setStreamGeneration((generation) => generation + 1);
          }
        },
        onError(cause) {
          // The server no longer has our version (restarted without persistence, or the op log was trimmed).
          if (isRefusal(cause)) {
            reload(ot, 'The document changed on the server while you were away, so it was reloaded.').catch(
              (e: unknown) => setError(errorMessage(e)),
            );
          } else {
            setError(errorMessage(cause));
          }
        },
      },
    );
    return () => subscription.unsubscribe();
    // streamGeneration is the restart trigger.
  }, [client, docId, ot, online, reload, streamGeneration]);

  // Back online: send the unacknowledged op again (same op id, so it is applied once), after the stream
  // above has restarted (effects run in order), so its acknowledgement cannot be missed.
  useEffect(() => {
    if (!ot) return;
    if (!online) {
      disconnected.current = true;
      return;
    }
    if (!disconnected.current) return;
    disconnected.current = false;
    setError(null);
    ot.reconnected();
  }, [online, ot]);

  const addChangeListener = useCallback(
    (listener: ChangeListener) => {
      listeners.add(listener);
      return () => {
        listeners.delete(listener);
      };
    },
    [listeners],
  );

  const snapshot = useSyncExternalStore(ot?.subscribe ?? noSubscription, ot?.getSnapshot ?? noSnapshot);
  return { ot, snapshot, error, notice, addChangeListener };
}
