import { type Selection, type TextOp, transformSelection } from '@switchboard/collab';

/** Another user's caret and selection, in code points of this client's text. */
export interface RemoteCursor extends Selection {
  userId: string;
  name: string;
  color: string;
}

export type RemoteCursors = ReadonlyMap<string, RemoteCursor>;

/** Moves every remote cursor through an op applied here, so each keeps pointing at the same character. */
export function transformCursors(cursors: RemoteCursors, op: TextOp): RemoteCursors {
  if (cursors.size === 0) return cursors;
  const next = new Map<string, RemoteCursor>();
  for (const [userId, cursor] of cursors) next.set(userId, { ...cursor, ...transformSelection(cursor, op) });
  return next;
}
