/**
 * The chat room of the README, verbatim apart from the client: if this breaks, the README's example does.
 */
import { chatChannel } from '@switchboard/protocol/demo';
import { fireEvent, render, screen, waitFor } from '@testing-library/react';
import { useState } from 'react';
import { describe, expect, it } from 'vitest';
import { setupFixture } from './__tests__/fixture.ts';
import { SwitchboardProvider } from './SwitchboardProvider.tsx';
import { useChannel } from './useChannel.ts';
import { useConnectionState } from './useConnectionState.ts';
import { usePresence } from './usePresence.ts';
import { usePublish } from './usePublish.ts';

const fixture = setupFixture();

function Room({ room }: { room: string }) {
  const { events, status, gap } = useChannel(chatChannel, room, { replay: 100 });
  const members = usePresence(chatChannel, room);
  const publish = usePublish(chatChannel, room);
  const connection = useConnectionState();
  const [draft, setDraft] = useState('');
  return (
    <section>
      <p>
        {connection.status} / {status} · {members.map((m) => m.name).join(', ')}
      </p>
      {gap && <p>Some messages could not be recovered.</p>}
      <ul>
        {events.map(
          (e) =>
            e.type === 'message' && (
              <li key={e.id}>
                {e.sender?.name}: {e.payload.text}
              </li>
            ),
        )}
      </ul>
      <form
        onSubmit={(ev) => {
          ev.preventDefault();
          publish('message', { text: draft });
          setDraft('');
        }}
      >
        <input value={draft} onChange={(ev) => setDraft(ev.target.value)} />
      </form>
    </section>
  );
}

describe('the README chat room', () => {
  it('shows history, members, and messages from both users', async () => {
    const server = await fixture.server();
    const alice = fixture.client(server, 'alice');
    const bob = fixture.client(server, 'bob');
    await bob.channel(chatChannel, 'lobby').publish('message', { text: 'earlier' });
    render(
      <SwitchboardProvider client={alice}>
        <Room room="lobby" />
      </SwitchboardProvider>,
    );
    await waitFor(() => expect(screen.getByText('open / live · alice')).toBeTruthy());
    expect(screen.getAllByRole('listitem').map((li) => li.textContent)).toEqual(['bob: earlier']);

    fireEvent.change(screen.getByRole('textbox'), { target: { value: 'hello bob' } });
    fireEvent.submit(screen.getByRole('textbox'));
    const leave = bob.channel(chatChannel, 'lobby').subscribe({});
    await waitFor(() =>
      expect(screen.getAllByRole('listitem').map((li) => li.textContent)).toEqual([
        'bob: earlier',
        'alice: hello bob',
      ]),
    );
    await waitFor(() => expect(screen.getByText('open / live · alice, bob')).toBeTruthy());
    leave();
  });
});
