const integer = new Intl.NumberFormat('en', { maximumFractionDigits: 0 });
const decimal = new Intl.NumberFormat('en', { maximumFractionDigits: 1 });

/** 1536 → "1.5 KiB", 73400320 → "70 MiB". */
export function formatBytes(bytes: number): string {
  const units = ['B', 'KiB', 'MiB', 'GiB'];
  let value = bytes;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit++;
  }
  return `${unit === 0 ? integer.format(value) : decimal.format(value)} ${units[unit]}`;
}

export function formatCount(value: number): string {
  return integer.format(value);
}

export function formatRate(perSecond: number): string {
  return `${decimal.format(perSecond)}/s`;
}

export function formatMs(ms: number): string {
  return `${decimal.format(ms)} ms`;
}

const clock = new Intl.DateTimeFormat('en', {
  hour: '2-digit',
  minute: '2-digit',
  second: '2-digit',
  hour12: false,
});

export function formatClock(ts: number): string {
  return clock.format(ts);
}

/** Bytes to MiB, for chart axes. */
export function toMiB(bytes: number): number {
  return Math.round((bytes / 1024 / 1024) * 10) / 10;
}
