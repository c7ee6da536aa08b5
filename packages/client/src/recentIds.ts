/**
 * The ids of the last `capacity` stored events a channel delivered, to drop an event delivered twice
 * (a resume that overlaps what was already received). The server already resumes exactly; this is the
 * client's own guard, so one server bug cannot show a user the same message twice.
 */
export interface RecentIds {
  /** Remembers the id; returns false when it was already there. */
  add(id: string): boolean;
  has(id: string): boolean;
}

export function createRecentIds(capacity: number): RecentIds {
  const ids = new Set<string>();
  return {
    add(id) {
      if (ids.has(id)) return false;
      ids.add(id);
      // Sets iterate in insertion order: the first key is the oldest.
      if (ids.size > capacity) ids.delete(ids.values().next().value as string);
      return true;
    },
    has: (id) => ids.has(id),
  };
}
