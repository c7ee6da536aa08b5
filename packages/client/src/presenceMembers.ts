import type { PresenceChange, PresenceMember } from '@switchboard/protocol';

/**
 * The member list after one `$presence` change. Members are keyed by user id and a change carries the
 * member's whole new state, so applying a change twice (once in a snapshot, once as an event) is harmless.
 */
export function applyPresenceChange(
  members: readonly PresenceMember[],
  change: PresenceChange,
): readonly PresenceMember[] {
  const others = members.filter((member) => member.userId !== change.member.userId);
  if (change.action === 'leave') return others.length === members.length ? members : others;
  const index = members.findIndex((member) => member.userId === change.member.userId);
  if (index === -1) return [...members, change.member];
  const next = [...members];
  next[index] = change.member;
  return next;
}
