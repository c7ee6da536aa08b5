import type { ChannelEvent } from '@switchboard/protocol';
import { chatChannel } from '@switchboard/protocol/demo';
import { act, fireEvent, render, screen, waitFor } from '@testing-library/react';
import { StrictMode, useState } from 'react';
import { describe, expect, it } from 'vitest';
import { setupFixture } from './__tests__/fixture.ts';
import { SwitchboardProvider } from './SwitchboardProvider.tsx';
import { useChannel } from './useChannel.ts';
import { usePresence } from './usePresence.ts';
import { usePublish } from './usePublish.ts';

const fixture = setupFixture();

type ChatEvent = ChannelEvent<typeof chatChannel>;

function textOf(event: ChatEvent): string {
  return event.type === 'message' ? event.payload.text : `typing:${event.payload.typing}`;
}

function Messages({ id, room, onEvent }: { id: string; room: string; onEvent?: (event: ChatEvent) => void }) {
  const { events, status } = useChannel(chatChannel, room, { replay: 10, onEvent });
  return <p data-testid={id}>{`${status}|${events.map(textOf).join(',')}`}</p>;
}

function Members({ room }: { room: string }) {
  const members = usePresence(chatChannel, room);
  return (
    <p data-testid="members">
      {members
        .map((member) => member.userId)
        .sort()
        .join(',')}
    </p>
  );
}

function Sender({ room }: { room: string }) {
  const publish = usePublish(chatChannel, room);
  const [result, setResult] = useState('');
  return (
    <button
      type="button"
      onClick={() => publish('message', { text: 'sent' }).then((sent) => setResult(sent.id ?? 'none'))}
    >
      {result || 'send'}
    </button>
  );
}

describe('useChannel', () => {
  it('shares one server subscription between components, and the last unmount stops it', async () => {
    const demo = await fixture.server();
    const alice = fixture.client(demo, 'alice');
    const bob = fixture.client(demo, 'bob');
    const view = render(
      <SwitchboardProvider client={alice}>
        <Messages id="a" room="lobby" />
        <Messages id="b" room="lobby" />
      </SwitchboardProvider>,
    );
    await waitFor(() => expect(screen.getByTestId('a').textContent).toBe('live|'));
    await waitFor(() => expect(screen.getByTestId('b').textContent).toBe('live|'));
    expect(demo.subscriptions()).toBe(1);

    await bob.channel(chatChannel, 'lobby').publish('message', { text: 'hi' });
    await waitFor(() => expect(screen.getByTestId('a').textContent).toBe('live|hi'));
    await waitFor(() => expect(screen.getByTestId('b').textContent).toBe('live|hi'));

    view.rerender(
      <SwitchboardProvider client={alice}>
        <Messages id="a" room="lobby" />
      </SwitchboardProvider>,
    );
    await act(() => new Promise((resolve) => setTimeout(resolve, 20)));
    expect(demo.subscriptions()).toBe(1);
    view.unmount();
    await waitFor(() => expect(demo.subscriptions()).toBe(0));
  });

  it('does not leak a subscription or repeat events under Strict Mode', async () => {
    const demo = await fixture.server();
    const alice = fixture.client(demo, 'alice');
    const bob = fixture.client(demo, 'bob');
    await bob.channel(chatChannel, 'lobby').publish('message', { text: 'earlier' });
    const seen: string[] = [];
    const view = render(
      <StrictMode>
        <SwitchboardProvider client={alice}>
          <Messages id="a" room="lobby" onEvent={(event) => seen.push(textOf(event))} />
        </SwitchboardProvider>
      </StrictMode>,
    );
    await waitFor(() => expect(screen.getByTestId('a').textContent).toBe('live|earlier'));
    expect(demo.subscriptions()).toBe(1);
    await bob.channel(chatChannel, 'lobby').publish('message', { text: 'later' });
    await waitFor(() => expect(screen.getByTestId('a').textContent).toBe('live|earlier,later'));
    expect(seen).toEqual(['earlier', 'later']);
    expect(demo.subscriptions()).toBe(1);

    view.unmount();
    await waitFor(() => expect(demo.subscriptions()).toBe(0));
  });

  it('switches the server subscription when the channel key changes', async () => {
    const demo = await fixture.server();
    const alice = fixture.client(demo, 'alice');
    const view = render(
      <SwitchboardProvider client={alice}>
        <Messages id="a" room="one" />
      </SwitchboardProvider>,
    );
    await waitFor(() => expect(screen.getByTestId('a').textContent).toBe('live|'));
    view.rerender(
      <SwitchboardProvider client={alice}>
        <Messages id="a" room="two" />
      </SwitchboardProvider>,
    );
    await waitFor(() => expect(screen.getByTestId('a').textContent).toBe('live|'));
    await alice.channel(chatChannel, 'two').publish('message', { text: 'in two' });
    await waitFor(() => expect(screen.getByTestId('a').textContent).toBe('live|in two'));
    await waitFor(() => expect(demo.subscriptions()).toBe(1));
    expect([...demo.server.registry.all()][0]?.subscribedChannels()).toEqual(new Map([['chat:two', 1]]));
  });
});

describe('usePresence', () => {
  it('lists the members and follows joins and leaves', async () => {
    const demo = await fixture.server();
    const alice = fixture.client(demo, 'alice');
    const bob = fixture.client(demo, 'bob');
    render(
      <SwitchboardProvider client={alice}>
        <Members room="lobby" />
      </SwitchboardProvider>,
    );
    await waitFor(() => expect(screen.getByTestId('members').textContent).toBe('alice'));
    const leave = bob.channel(chatChannel, 'lobby').subscribe({});
    await waitFor(() => expect(screen.getByTestId('members').textContent).toBe('alice,bob'));
    leave();
    await waitFor(() => expect(screen.getByTestId('members').textContent).toBe('alice'));
  });
});

describe('usePublish', () => {
  it('publishes a typed event and resolves with its id', async () => {
    const demo = await fixture.server();
    const alice = fixture.client(demo, 'alice');
    render(
      <SwitchboardProvider client={alice}>
        <Messages id="a" room="lobby" />
        <Sender room="lobby" />
      </SwitchboardProvider>,
    );
    await waitFor(() => expect(screen.getByTestId('a').textContent).toBe('live|'));
    fireEvent.click(screen.getByRole('button'));
    await waitFor(() => expect(screen.getByTestId('a').textContent).toBe('live|sent'));
    await waitFor(() => expect(screen.getByRole('button').textContent).toMatch(/^[a-z0-9]+:\S+$/));
  });
});
