import type { ConnectionState } from '@switchboard/client';
import { useSyncExternalStore } from 'react';
import { useSwitchboard } from './useSwitchboard.ts';

/** The client's connection state (`idle | connecting | open | reconnecting | closed`), re-rendering on change. */
export function useConnectionState(): ConnectionState {
  const { connection } = useSwitchboard();
  return useSyncExternalStore(connection.subscribe, connection.getSnapshot, connection.getSnapshot);
}
