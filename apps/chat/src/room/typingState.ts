/** A typing indicator disappears this long after the last `typing: true` from its user. */
export const TYPING_EXPIRY_MS = 3000;
/** While the user keeps typing, `typing: true` is repeated this often so remote indicators stay alive. */
export const TYPING_REFRESH_MS = 1500;

/** Who is typing, by user id, with the time their indicator expires. */
export type TypingUsers = ReadonlyMap<string, { name: string; expiresAt: number }>;

export function applyTypingEvent(
  users: TypingUsers,
  sender: { userId: string; name?: string },
  typing: boolean,
  now: number,
): TypingUsers {
  if (!typing) {
    if (!users.has(sender.userId)) return users;
    const next = new Map(users);
    next.delete(sender.userId);
    return next;
  }
  return new Map(users).set(sender.userId, {
    name: sender.name ?? sender.userId,
    expiresAt: now + TYPING_EXPIRY_MS,
  });
}

/** Drops expired indicators; returns the same map when nothing expired, so React can skip a render. */
export function expireTyping(users: TypingUsers, now: number): TypingUsers {
  let expired = false;
  for (const entry of users.values()) if (entry.expiresAt <= now) expired = true;
  if (!expired) return users;
  return new Map([...users].filter(([, entry]) => entry.expiresAt > now));
}

/** "Alice is typing…", "Alice and Bob are typing…", "3 people are typing…". */
export function typingSentence(names: readonly string[]): string {
  if (names.length === 0) return '';
  if (names.length === 1) return `${names[0]} is typing…`;
  if (names.length === 2) return `${names[0]} and ${names[1]} are typing…`;
  return `${names.length} people are typing…`;
}
