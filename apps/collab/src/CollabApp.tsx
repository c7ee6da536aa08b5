import type { Session } from '@switchboard/demo-ui';
import { docIdSchema } from '@switchboard/protocol/demo';
import { type FormEvent, useEffect, useState } from 'react';
import { CollabEditor } from './doc/CollabEditor.tsx';
import { DEFAULT_DOC_ID, docIdFromHash } from './docIdFromHash.ts';

/** A document picker over the editor; the document id lives in the URL hash, so links can be shared. */
export function CollabApp({ session }: { session: Session }) {
  const [docId, setDocId] = useState(() => docIdFromHash(location.hash) ?? DEFAULT_DOC_ID);
  const [draft, setDraft] = useState('');
  const [error, setError] = useState<string | null>(null);

  useEffect(() => {
    const onHashChange = () => setDocId(docIdFromHash(location.hash) ?? DEFAULT_DOC_ID);
    window.addEventListener('hashchange', onHashChange);
    return () => window.removeEventListener('hashchange', onHashChange);
  }, []);

  function onOpen(event: FormEvent) {
    event.preventDefault();
    const parsed = docIdSchema.safeParse(draft.trim());
    if (!parsed.success) {
      setError('letters, digits, - and _ only (at most 64)');
      return;
    }
    setError(null);
    setDraft('');
    history.replaceState(null, '', `#${parsed.data}`);
    setDocId(parsed.data);
  }

  return (
    <main className="collab-layout">
      <form className="doc-picker" onSubmit={onOpen} noValidate>
        <label htmlFor="doc-id">Open a document</label>
        <div className="inline-form">
          <input
            id="doc-id"
            data-testid="doc-id"
            value={draft}
            placeholder={docId}
            onChange={(event) => setDraft(event.target.value)}
            aria-invalid={error !== null}
            aria-describedby={error ? 'doc-id-error' : undefined}
          />
          <button type="submit" data-testid="doc-open">
            Open
          </button>
        </div>
        {error && (
          <p id="doc-id-error" className="error" role="alert">
            {error}
          </p>
        )}
      </form>
      {/* Keyed by document: another document gets a fresh OT client and streams. */}
      <CollabEditor key={docId} docId={docId} session={session} />
    </main>
  );
}
