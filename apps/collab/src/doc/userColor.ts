/** Cursor colours, dark enough for a 2 px caret on white and readable under white label text. */
const PALETTE = ['#d9480f', '#2f6fdf', '#1f8a4c', '#9446ed', '#c2255c', '#0f8a96', '#a35f00', '#5c7cfa'];

/** A stable colour per user id, so a user keeps their colour on every screen and across reloads. */
export function userColor(userId: string): string {
  let hash = 0;
  for (let i = 0; i < userId.length; i++) hash = (hash * 31 + userId.charCodeAt(i)) >>> 0;
  return PALETTE[hash % PALETTE.length]!;
}
