import { codePointsToUtf16 } from '@switchboard/collab';
import type { ReactNode } from 'react';
import type { RemoteCursor } from './remoteCursors.ts';

interface Mark {
  offset: number;
  cursor: RemoteCursor;
}

/** The cursors as UTF-16 ranges of `text`, the unit the DOM lays out. */
function toRanges(text: string, cursors: readonly RemoteCursor[]) {
  return cursors.map((cursor) => {
    const anchor = codePointsToUtf16(text, cursor.anchor);
    const head = codePointsToUtf16(text, cursor.head);
    return { cursor, from: Math.min(anchor, head), to: Math.max(anchor, head), head };
  });
}

/**
 * A mirror of the textarea drawn underneath it (same font, padding and wrapping, transparent text), with
 * remote selections as tinted runs and remote carets as coloured bars labelled with the user's name.
 * A textarea cannot style parts of its text, hence the mirror.
 */
export function CursorOverlay({
  text,
  cursors,
  scrollTop,
}: {
  text: string;
  cursors: readonly RemoteCursor[];
  scrollTop: number;
}) {
  const ranges = toRanges(text, cursors);
  const carets: Mark[] = ranges.map((range) => ({ offset: range.head, cursor: range.cursor }));
  const boundaries = [
    ...new Set([
      0,
      text.length,
      ...ranges.flatMap((range) => [range.from, range.to]),
      ...carets.map((c) => c.offset),
    ]),
  ].sort((a, b) => a - b);

  const parts: ReactNode[] = [];
  for (let i = 0; i < boundaries.length; i++) {
    const at = boundaries[i]!;
    for (const caret of carets.filter((c) => c.offset === at)) {
      parts.push(
        <span
          key={`caret-${caret.cursor.userId}`}
          className="remote-caret"
          style={{ borderColor: caret.cursor.color }}
          data-testid="remote-cursor"
          data-user-name={caret.cursor.name}
        >
          <span className="remote-caret-label" style={{ background: caret.cursor.color }}>
            {caret.cursor.name}
          </span>
        </span>,
      );
    }
    const next = boundaries[i + 1];
    if (next === undefined) break;
    const covering = ranges.find((range) => range.from <= at && range.to >= next && range.from !== range.to);
    const segment = text.slice(at, next);
    parts.push(
      covering ? (
        <mark
          key={`run-${at}`}
          className="remote-selection"
          style={{ background: `${covering.cursor.color}33` }}
          data-testid="remote-selection"
        >
          {segment}
        </mark>
      ) : (
        <span key={`run-${at}`}>{segment}</span>
      ),
    );
  }

  return (
    <div className="editor-surface cursor-overlay" aria-hidden="true">
      <div style={{ transform: `translateY(${-scrollTop}px)` }}>
        {parts}
        {/* A trailing newline needs a character after it to take up its line, as it does in the textarea. */}
        {'\u200b'}
      </div>
    </div>
  );
}
