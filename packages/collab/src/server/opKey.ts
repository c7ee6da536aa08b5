/**
 * The key under which a doc store remembers an op id: scoped to its author, so the same id from two users is
 * two ops, and one user cannot make another's op look like a retry. JSON keeps any two (userId, opId) pairs
 * apart whatever characters they contain.
 */
export function opKeyOf(userId: string, opId: string): string {
  return JSON.stringify([userId, opId]);
}
