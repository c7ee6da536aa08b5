import { roomNameSchema } from '@switchboard/protocol/demo';
import { type FormEvent, useState } from 'react';

/** The joined rooms, and a form to create or join one by name (the names `roomNameSchema` allows). */
export function RoomSidebar({
  rooms,
  current,
  onSelect,
}: {
  rooms: readonly string[];
  current: string;
  onSelect: (room: string) => void;
}) {
  const [name, setName] = useState('');
  const [error, setError] = useState<string | null>(null);

  function onSubmit(event: FormEvent) {
    event.preventDefault();
    const parsed = roomNameSchema.safeParse(name);
    if (!parsed.success) {
      setError(parsed.error.issues[0]?.message ?? 'invalid room name');
      return;
    }
    setError(null);
    setName('');
    onSelect(parsed.data);
  }

  return (
    <nav className="card rooms" aria-labelledby="rooms-heading">
      <h2 id="rooms-heading">Rooms</h2>
      <ul data-testid="room-list">
        {rooms.map((room) => (
          <li key={room}>
            <a
              href={`#${room}`}
              aria-current={room === current ? 'page' : undefined}
              data-testid="room-link"
              onClick={(event) => {
                event.preventDefault();
                onSelect(room);
              }}
            >
              #{room}
            </a>
          </li>
        ))}
      </ul>
      <form onSubmit={onSubmit} noValidate>
        <label htmlFor="room-name">Create or join a room</label>
        <div className="inline-form">
          <input
            id="room-name"
            data-testid="room-name"
            value={name}
            placeholder="e.g. team-42"
            onChange={(event) => setName(event.target.value)}
            aria-invalid={error !== null}
            aria-describedby={error ? 'room-error' : undefined}
          />
          <button type="submit" data-testid="room-join">
            Join
          </button>
        </div>
        {error && (
          <p id="room-error" className="error" role="alert" data-testid="room-error">
            {error}
          </p>
        )}
      </form>
    </nav>
  );
}
