import { render, screen, waitFor } from '@testing-library/react';
import { describe, expect, it } from 'vitest';
import { setupFixture } from './__tests__/fixture.ts';
import { SwitchboardProvider } from './SwitchboardProvider.tsx';
import { useConnectionState } from './useConnectionState.ts';

const fixture = setupFixture();

function Status({ log }: { log: string[] }) {
  const state = useConnectionState();
  log.push(state.status);
  return <p data-testid="status">{state.status}</p>;
}

describe('useConnectionState', () => {
  it('re-renders on every transition: open, reconnecting after a drop, open again, closed', async () => {
    const demo = await fixture.server();
    const alice = fixture.client(demo, 'alice');
    const log: string[] = [];
    render(
      <SwitchboardProvider client={alice}>
        <Status log={log} />
      </SwitchboardProvider>,
    );
    await waitFor(() => expect(screen.getByTestId('status').textContent).toBe('open'));
    for (const connection of demo.server.registry.all()) connection.socket.terminate();
    await waitFor(() => expect(log).toContain('reconnecting'));
    await waitFor(() => expect(screen.getByTestId('status').textContent).toBe('open'));
    await alice.close();
    await waitFor(() => expect(screen.getByTestId('status').textContent).toBe('closed'));
    expect(log.filter((status, i) => status !== log[i - 1])).toEqual([
      'connecting',
      'open',
      'reconnecting',
      'open',
      'closed',
    ]);
  });
});
