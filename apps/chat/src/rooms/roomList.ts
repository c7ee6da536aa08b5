import { roomNameSchema } from '@switchboard/protocol/demo';

/** The room every user lands in first. */
export const DEFAULT_ROOM = 'general';
const STORAGE_KEY = 'switchboard.chat.rooms';

/** Rooms this tab has joined, so the sidebar survives a reload. */
export function loadRooms(): string[] {
  try {
    const stored = JSON.parse(sessionStorage.getItem(STORAGE_KEY) ?? '[]') as unknown;
    const rooms = Array.isArray(stored)
      ? stored.filter((room) => roomNameSchema.safeParse(room).success)
      : [];
    return rooms.includes(DEFAULT_ROOM) ? rooms : [DEFAULT_ROOM, ...rooms];
  } catch {
    return [DEFAULT_ROOM];
  }
}

export function saveRooms(rooms: readonly string[]): void {
  sessionStorage.setItem(STORAGE_KEY, JSON.stringify(rooms));
}

/** The room named in the URL (`#room-name`), when it is a valid room name. */
export function roomFromHash(hash: string): string | null {
  const parsed = roomNameSchema.safeParse(decodeURIComponent(hash.replace(/^#/, '')));
  return parsed.success ? parsed.data : null;
}
