import type { Session } from '@switchboard/demo-ui';
import { useEffect, useState } from 'react';
import { Room } from './room/Room.tsx';
import { RoomSidebar } from './rooms/RoomSidebar.tsx';
import { DEFAULT_ROOM, loadRooms, roomFromHash, saveRooms } from './rooms/roomList.ts';

/** Rooms on the left, the current one (from the URL hash, so links and reloads work) on the right. */
export function ChatApp({ session }: { session: Session }) {
  const [rooms, setRooms] = useState(loadRooms);
  const [current, setCurrent] = useState(() => roomFromHash(location.hash) ?? DEFAULT_ROOM);

  useEffect(() => {
    const onHashChange = () => setCurrent(roomFromHash(location.hash) ?? DEFAULT_ROOM);
    window.addEventListener('hashchange', onHashChange);
    return () => window.removeEventListener('hashchange', onHashChange);
  }, []);

  useEffect(() => {
    if (rooms.includes(current)) return;
    const next = [...rooms, current];
    setRooms(next);
    saveRooms(next);
  }, [rooms, current]);

  function select(room: string) {
    history.replaceState(null, '', `#${room}`);
    setCurrent(room);
  }

  return (
    <main className="chat-layout">
      <RoomSidebar rooms={rooms} current={current} onSelect={select} />
      {/* Keyed by room: entering another room starts a fresh log, subscription and replay. */}
      <Room key={current} room={current} session={session} />
    </main>
  );
}
