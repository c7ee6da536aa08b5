import { chatChannel } from '@switchboard/protocol/demo';
import { QueryClient, QueryClientProvider, useQuery, useQueryClient } from '@tanstack/react-query';
import { render, screen, waitFor } from '@testing-library/react';
import { describe, expect, it, vi } from 'vitest';
import { setupFixture } from './__tests__/fixture.ts';
import type { TestRouter } from './__tests__/testServer.ts';
import { SwitchboardProvider } from './SwitchboardProvider.tsx';
import { useConnectionState } from './useConnectionState.ts';
import { useTRPC } from './useTRPC.ts';

const fixture = setupFixture();

function PresenceCount() {
  const trpc = useTRPC<TestRouter>();
  const presence = useQuery(trpc.channel.presence.queryOptions({ channel: chatChannel.name('lobby') }));
  return <p data-testid="count">{presence.data ? String(presence.data.members.length) : 'loading'}</p>;
}

function Orphan() {
  useConnectionState();
  return null;
}

function QueryClientProbe({ seen }: { seen: QueryClient[] }) {
  seen.push(useQueryClient());
  return null;
}

describe('SwitchboardProvider', () => {
  it('throws a message that names the fix when a hook has no provider', () => {
    // React reports the render error on the console as well; keep the test output clean.
    const consoleError = vi.spyOn(console, 'error').mockImplementation(() => {});
    expect(() => render(<Orphan />)).toThrow(/wrap your components in <SwitchboardProvider client=/);
    consoleError.mockRestore();
  });

  it('gives useTRPC() typed query options over the same connection', async () => {
    const demo = await fixture.server();
    const alice = fixture.client(demo, 'alice');
    render(
      <SwitchboardProvider client={alice}>
        <PresenceCount />
      </SwitchboardProvider>,
    );
    await waitFor(() => expect(screen.getByTestId('count').textContent).toBe('0'));
  });

  it('uses the QueryClient of an enclosing QueryClientProvider', async () => {
    const demo = await fixture.server();
    const alice = fixture.client(demo, 'alice');
    const queryClient = new QueryClient();
    const seen: QueryClient[] = [];
    render(
      <QueryClientProvider client={queryClient}>
        <SwitchboardProvider client={alice}>
          <QueryClientProbe seen={seen} />
        </SwitchboardProvider>
      </QueryClientProvider>,
    );
    expect(seen[0]).toBe(queryClient);
  });
});
