import { randomId } from '@switchboard/protocol';
import type { TextOp } from 'ot-text-unicode';

/** Sends one op to the server (`collab.submit`). The ack itself arrives on the `collab.ops` stream. */
export type SubmitOp = (op: TextOp, version: number, opId: string) => Promise<{ version: number }>;

/** A change of the client's text, local or remote. */
export interface TextChange {
  /** `local`: `applyLocal`; `remote`: another client's op from the server; `reset`: `reset()` replaced the text. */
  source: 'local' | 'remote' | 'reset';
  /** The op as applied to `previousText`, in code points: move cursors with `transformCursor(pos, op)`. */
  op: TextOp;
  previousText: string;
  text: string;
  /** Server version the client has caught up to (local edits do not change it). */
  version: number;
}

export interface OtClientOptions {
  /** Version of `text`, as returned by `collab.open`. */
  version: number;
  /** The document at `version`. */
  text: string;
  /**
   * Submits an op (`collab.submit`). Called with one op at a time; a rejection leaves the op unacknowledged
   * until `reconnected()` sends it again with the same op id.
   */
  submit: SubmitOp;
  /** Called after every change of the text, local or remote. @default no-op */
  onChange?: (change: TextChange) => void;
  /** Called when `submit` rejects (lost connection, or the server refused the op). @default no-op */
  onSubmitError?: (error: unknown, opId: string) => void;
  /** Makes the id that lets the server recognise a resubmitted op. @default 16 random bytes, hex */
  createOpId?: () => string;
  /**
   * The signed-in user (the `userId` the server records on this client's ops). Op ids are scoped to their
   * author, so with it set an op from another user that carries our in-flight op id is applied as theirs,
   * never taken for our acknowledgement. @default undefined: any author's op with our op id acknowledges it
   */
  userId?: string;
}

export type ResolvedOtClientOptions = Required<Omit<OtClientOptions, 'userId'>> &
  Pick<OtClientOptions, 'userId'>;

const otClientDefaults = {
  onChange: () => {},
  onSubmitError: () => {},
  createOpId: randomId,
} satisfies Required<Pick<OtClientOptions, 'onChange' | 'onSubmitError' | 'createOpId'>>;

/** Merges defaults and rejects an impossible starting state. */
export function resolveOtClientOptions(options: OtClientOptions): ResolvedOtClientOptions {
  if (!Number.isSafeInteger(options.version) || options.version < 0) {
    throw new TypeError(`version must be a non-negative integer (from collab.open), got ${options.version}`);
  }
  if (typeof options.submit !== 'function') {
    throw new TypeError('submit must be a function that calls collab.submit');
  }
  return {
    ...otClientDefaults,
    ...definedOnly(options),
  } as ResolvedOtClientOptions;
}

function definedOnly<T extends object>(value: T): Partial<T> {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as Partial<T>;
}
