import { diffToOp, transformUtf16Offset } from '@switchboard/collab';
import type { Session } from '@switchboard/demo-ui';
import { useEffect, useLayoutEffect, useRef, useState } from 'react';
import { CursorOverlay } from './CursorOverlay.tsx';
import { PeopleList } from './PeopleList.tsx';
import { SyncStatus } from './SyncStatus.tsx';
import { useCollabDoc } from './useCollabDoc.ts';
import { useRemoteCursors } from './useRemoteCursors.ts';

/**
 * The shared editor. The textarea is uncontrolled: local input becomes an op, and remote changes are
 * written into it with the caret moved through the op, which a controlled textarea would reset to the end.
 */
export function CollabEditor({ docId, session }: { docId: string; session: Session }) {
  const doc = useCollabDoc(docId, session.userId);
  const { ot, snapshot, addChangeListener } = doc;
  const textareaRef = useRef<HTMLTextAreaElement>(null);
  const [scrollTop, setScrollTop] = useState(0);
  const { cursors, members } = useRemoteCursors(docId, doc, session, textareaRef);

  useLayoutEffect(() => {
    const el = textareaRef.current;
    if (el && ot) el.value = ot.text;
  }, [ot]);

  useEffect(
    () =>
      addChangeListener((change) => {
        const el = textareaRef.current;
        if (!el || el.value === change.text) return;
        const { selectionStart, selectionEnd, selectionDirection } = el;
        // The textarea holds `previousText`; local changes only differ when lone surrogates were replaced.
        const start = transformUtf16Offset(change.previousText, selectionStart, change.op, change.text);
        const end = transformUtf16Offset(change.previousText, selectionEnd, change.op, change.text);
        el.value = change.text;
        el.setSelectionRange(start, end, selectionDirection);
      }),
    [addChangeListener],
  );

  return (
    <div className="doc">
      <section className="card editor-card" aria-labelledby="doc-heading">
        <header className="doc-header">
          <h1 id="doc-heading" data-testid="doc-title">
            {docId}
          </h1>
          <SyncStatus snapshot={snapshot} />
        </header>
        {doc.error && (
          <p className="error" role="alert" data-testid="doc-error">
            {doc.error}
          </p>
        )}
        {doc.notice && (
          <p className="notice" role="status" data-testid="doc-notice">
            {doc.notice}
          </p>
        )}
        <div className="editor">
          <CursorOverlay text={snapshot?.text ?? ''} cursors={cursors} scrollTop={scrollTop} />
          <label htmlFor="editor-input" className="visually-hidden">
            Document text
          </label>
          <textarea
            id="editor-input"
            ref={textareaRef}
            className="editor-surface editor-input"
            data-testid="editor"
            data-ready={ot !== null}
            readOnly={ot === null}
            spellCheck={false}
            placeholder={ot ? 'Start typing. Everyone here sees it live.' : 'Opening…'}
            onInput={(event) => {
              if (!ot) return;
              const el = event.currentTarget;
              ot.applyLocal(diffToOp(ot.text, el.value, el.selectionEnd));
            }}
            onScroll={(event) => setScrollTop(event.currentTarget.scrollTop)}
          />
        </div>
      </section>
      <PeopleList members={members} myUserId={session.userId} />
    </div>
  );
}
