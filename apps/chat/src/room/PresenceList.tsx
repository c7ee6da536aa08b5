import type { PresenceMember } from '@switchboard/protocol';

/** Who is in the room now, the current user first. */
export function PresenceList({
  members,
  myUserId,
}: {
  members: readonly PresenceMember[];
  myUserId: string;
}) {
  const sorted = [...members].sort((a, b) =>
    a.userId === myUserId ? -1 : b.userId === myUserId ? 1 : a.name.localeCompare(b.name),
  );
  return (
    <section className="card presence" aria-labelledby="presence-heading">
      <h2 id="presence-heading">
        In this room{' '}
        <span className="muted" data-testid="presence-count">
          ({members.length})
        </span>
      </h2>
      <ul data-testid="presence-list">
        {sorted.map((member) => (
          <li key={member.userId} data-testid="presence-member" data-user-id={member.userId}>
            <span className="dot online" aria-hidden="true" />
            {member.name}
            {member.userId === myUserId && <span className="muted"> (you)</span>}
            {member.connections > 1 && <span className="muted"> · {member.connections} tabs</span>}
          </li>
        ))}
      </ul>
    </section>
  );
}
