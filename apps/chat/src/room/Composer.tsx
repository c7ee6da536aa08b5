import { MAX_CHAT_MESSAGE_LENGTH } from '@switchboard/protocol/demo';
import { type FormEvent, type KeyboardEvent, type ReactNode, useState } from 'react';

/**
 * The message box: Enter sends, Shift+Enter adds a line. With `blocked` (why sending cannot work, and what
 * to do) the box is disabled and says so; the draft is kept for when it works again.
 */
export function Composer({
  room,
  onSend,
  onDraftChange,
  blocked,
}: {
  room: string;
  onSend: (text: string) => void;
  onDraftChange: (draft: string) => void;
  blocked?: ReactNode;
}) {
  const [draft, setDraft] = useState('');
  const trimmed = draft.trim();
  const tooLong = trimmed.length > MAX_CHAT_MESSAGE_LENGTH;

  function send(event?: FormEvent) {
    event?.preventDefault();
    if (trimmed.length === 0 || tooLong || blocked) return;
    onSend(trimmed);
    setDraft('');
  }

  function onKeyDown(event: KeyboardEvent<HTMLTextAreaElement>) {
    if (event.key === 'Enter' && !event.shiftKey && !event.nativeEvent.isComposing) send(event);
  }

  return (
    <form className="composer" onSubmit={send}>
      <label htmlFor="composer-input" className="visually-hidden">
        Message #{room}
      </label>
      <textarea
        id="composer-input"
        data-testid="composer-input"
        rows={2}
        placeholder={`Message #${room}`}
        value={draft}
        onChange={(event) => {
          setDraft(event.target.value);
          onDraftChange(event.target.value);
        }}
        onKeyDown={onKeyDown}
        aria-invalid={tooLong}
        disabled={Boolean(blocked)}
      />
      <button
        type="submit"
        data-testid="composer-send"
        disabled={trimmed.length === 0 || tooLong || Boolean(blocked)}
      >
        Send
      </button>
      {blocked && (
        <p className="composer-blocked" role="status" data-testid="composer-blocked">
          {blocked}
        </p>
      )}
      {tooLong && (
        <p className="error" role="alert">
          Messages are at most {MAX_CHAT_MESSAGE_LENGTH} characters.
        </p>
      )}
    </form>
  );
}
