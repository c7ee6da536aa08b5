import type { CommittedOp } from '@switchboard/protocol/demo';
import { type TextOp, type as textType } from 'ot-text-unicode';
import { diffToOp } from './diff.ts';
import { applyChecked } from './opCheck.ts';
import { splitOpForSubmit } from './opLimits.ts';
import { type OtClientOptions, resolveOtClientOptions, type TextChange } from './options.ts';
import { normalizeOp } from './textOp.ts';

/**
 * - `synced`: every local edit is acknowledged.
 * - `sending`: one op is in flight; later edits wait, composed, in the pending buffer.
 * - `failed`: the last submit of the in-flight op rejected; `reconnected()` sends it again.
 */
export type OtClientStatus = 'synced' | 'sending' | 'failed';

/** Immutable; a new object after every change, so it suits `useSyncExternalStore`. */
export interface OtClientSnapshot {
  status: OtClientStatus;
  /** The last server version this client has applied. */
  version: number;
  /** The local text: the server's document at `version` plus the unacknowledged local edits. */
  text: string;
  /** Id of the op in flight, if any. */
  inflightOpId: string | undefined;
  /** Ops waiting behind the one in flight. */
  pendingOps: number;
}

/**
 * - `applied`: another client's op, transformed and applied.
 * - `acknowledged`: this client's in-flight op came back committed; the next pending op is sent.
 * - `duplicate`: already applied (a version at or below ours): ignored.
 * - `gap`: a version is missing before this op: ignored; resubscribe from `getSnapshot().version`.
 */
export type ReceiveResult = 'applied' | 'acknowledged' | 'duplicate' | 'gap';

export interface OtClient {
  readonly text: string;
  readonly version: number;
  getSnapshot(): OtClientSnapshot;
  /** Calls `listener` after every state change (text, version, status); returns the unsubscribe function. */
  subscribe(listener: () => void): () => void;
  /** Applies a local edit (code points, e.g. from `diffToOp`) and sends it when nothing is in flight. */
  applyLocal(op: TextOp): void;
  /** Feeds one op of the `collab.ops` stream, in version order. */
  receive(committed: CommittedOp): ReceiveResult;
  /**
   * Sends the in-flight op again with the same op id (the server acknowledges it once, whether or not the
   * first attempt was committed), then the pending ops. Call after the connection is back, or after a
   * transient submit error.
   */
  reconnected(): void;
  /**
   * Drops unacknowledged edits and starts over from a freshly opened document. For when the server refused
   * an op for good (BAD_REQUEST) or the op log no longer reaches back to this client's version.
   */
  reset(doc: { version: number; text: string }): void;
}

interface Inflight {
  op: TextOp;
  opId: string;
}

/**
 * The client half of server-authoritative OT (ShareDB, Jupiter): at most one op in flight, later edits
 * composed in a pending buffer, and every op of other clients transformed against both before it is applied.
 * The ack is the in-flight op's own id coming back on the ops stream, so it is ordered with the other
 * committed ops; the `submit` promise only reports failures.
 */
export function createOtClient(options: OtClientOptions): OtClient {
  const resolved = resolveOtClientOptions(options);
  let version = resolved.version;
  let text = resolved.text;
  let inflight: Inflight | null = null;
  let pending: TextOp[] = [];
  // Each send gets a number, so the rejection of a superseded attempt cannot mark a later one failed.
  let sendAttempt = 0;
  let failedAttempt: number | undefined;
  let snapshot = takeSnapshot();
  const listeners = new Set<() => void>();

  /** The status follows from the other state, so no code path can leave it stale. */
  function statusOf(): OtClientStatus {
    if (!inflight) return 'synced';
    return failedAttempt === sendAttempt ? 'failed' : 'sending';
  }

  function takeSnapshot(): OtClientSnapshot {
    return { status: statusOf(), version, text, inflightOpId: inflight?.opId, pendingOps: pending.length };
  }

  function notify(): void {
    snapshot = takeSnapshot();
    for (const listener of listeners) listener();
  }

  function emitChange(source: TextChange['source'], op: TextOp, previousText: string): void {
    resolved.onChange({ source, op, previousText, text, version });
  }

  function send(current: Inflight): void {
    const attempt = ++sendAttempt;
    const sendFailed = (error: unknown) => {
      if (attempt !== sendAttempt || inflight !== current) return;
      failedAttempt = attempt;
      notify();
      resolved.onSubmitError(error, current.opId);
    };
    try {
      resolved.submit(current.op, version, current.opId).then(undefined, sendFailed);
    } catch (error) {
      queueMicrotask(() => sendFailed(error));
    }
  }

  function sendNext(): void {
    if (inflight) return;
    const next = pending.shift();
    if (!next) return;
    const [first = [], ...rest] = splitOpForSubmit(next);
    pending.unshift(...rest);
    inflight = { op: first, opId: resolved.createOpId() };
    send(inflight);
  }

  return {
    get text() {
      return text;
    },
    get version() {
      return version;
    },
    getSnapshot: () => snapshot,
    subscribe(listener) {
      listeners.add(listener);
      return () => {
        listeners.delete(listener);
      };
    },

    applyLocal(op) {
      const normalized = normalizeOp(op);
      if (normalized.length === 0) return;
      const previousText = text;
      text = applyChecked(text, normalized);
      const last = pending.pop();
      pending.push(last ? textType.compose(last, normalized) : normalized);
      sendNext();
      emitChange('local', normalized, previousText);
      notify();
    },

    receive(committed) {
      if (committed.version <= version) return 'duplicate';
      if (committed.version > version + 1) return 'gap';
      const ours = resolved.userId === undefined || committed.userId === resolved.userId;
      if (inflight && committed.opId === inflight.opId && ours) {
        version = committed.version;
        inflight = null;
        sendNext();
        notify();
        return 'acknowledged';
      }
      // The server put `committed` before our unacknowledged ops and transformed those with side 'left';
      // the mirror image here ('right' for the incoming op) gives every replica the same text.
      let incoming = normalizeOp(committed.op);
      let inflightOp = inflight?.op;
      if (inflightOp) {
        const before = inflightOp;
        inflightOp = textType.transform(before, incoming, 'left');
        incoming = textType.transform(incoming, before, 'right');
      }
      const nextPending: TextOp[] = [];
      for (const op of pending) {
        const transformed = textType.transform(op, incoming, 'left');
        incoming = textType.transform(incoming, op, 'right');
        if (transformed.length > 0) nextPending.push(transformed);
      }
      const previousText = text;
      // Checked: a server op that does not fit our text means the replicas already differ; fail loudly.
      text = applyChecked(text, incoming);
      // Mutated in place: a rejection of the current send attempt must still find the same object in flight.
      if (inflight && inflightOp) inflight.op = inflightOp;
      pending = nextPending;
      version = committed.version;
      emitChange('remote', incoming, previousText);
      notify();
      return 'applied';
    },

    reconnected() {
      if (inflight) send(inflight);
      else sendNext();
      notify();
    },

    reset(doc) {
      const previousText = text;
      sendAttempt++;
      inflight = null;
      pending = [];
      version = doc.version;
      text = doc.text;
      emitChange('reset', diffToOp(previousText, text), previousText);
      notify();
    },
  };
}
