import type { OtClientSnapshot } from '@switchboard/collab';
import { useConnectionState } from '@switchboard/react';

/** "All changes saved", "Saving…", or how many edits wait for the connection. */
export function SyncStatus({ snapshot }: { snapshot: OtClientSnapshot | null }) {
  const { status } = useConnectionState();
  if (!snapshot)
    return (
      <span className="muted" data-testid="sync-status" data-state="opening">
        Opening…
      </span>
    );
  const unsent = snapshot.pendingOps + (snapshot.inflightOpId ? 1 : 0);
  let state: string;
  let text: string;
  if (unsent === 0) {
    state = 'saved';
    text = `All changes saved · version ${snapshot.version}`;
  } else if (status !== 'open') {
    state = 'offline';
    text = `Offline · ${unsent} edit${unsent === 1 ? '' : 's'} kept, sent on reconnect`;
  } else {
    state = 'saving';
    text = 'Saving…';
  }
  return (
    <span className={`sync sync-${state}`} role="status" data-testid="sync-status" data-state={state}>
      {text}
    </span>
  );
}
