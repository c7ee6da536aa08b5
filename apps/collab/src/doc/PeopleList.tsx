import type { PresenceMember } from '@switchboard/protocol';
import { userColor } from './userColor.ts';

/** Who has the document open, in their cursor colours, the current user first. */
export function PeopleList({ members, myUserId }: { members: readonly PresenceMember[]; myUserId: string }) {
  const sorted = [...members].sort((a, b) =>
    a.userId === myUserId ? -1 : b.userId === myUserId ? 1 : a.name.localeCompare(b.name),
  );
  return (
    <section className="card people" aria-labelledby="people-heading">
      <h2 id="people-heading">
        In this document <span className="muted">({members.length})</span>
      </h2>
      <ul data-testid="people-list">
        {sorted.map((member) => (
          <li key={member.userId} data-testid="person" data-user-id={member.userId}>
            <span className="dot" style={{ background: userColor(member.userId) }} aria-hidden="true" />
            {member.name}
            {member.userId === myUserId && <span className="muted"> (you)</span>}
          </li>
        ))}
      </ul>
    </section>
  );
}
