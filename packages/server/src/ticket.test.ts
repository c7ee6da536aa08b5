import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { useCleanup } from './__tests__/lifecycle.ts';
import { startTestServer, TEST_SECRET, upgradeStatusOf } from './__tests__/testServer.ts';
import { createTicketIssuer } from './ticket.ts';

const track = useCleanup();
const alice = { userId: 'alice', name: 'Alice', roles: ['member'] };

describe('connection tickets', () => {
  it('redeems a ticket once, for its user, and never after it expired', () => {
    let now = 1_000_000;
    const tickets = createTicketIssuer({ ttlMs: 30_000, secret: TEST_SECRET, now: () => now });
    const { ticket, expiresAt } = tickets.issue(alice);
    expect(expiresAt).toBe(now + 30_000);
    expect(tickets.redeem(ticket)).toEqual(alice);
    expect(tickets.redeem(ticket)).toBeNull();
    const late = tickets.issue(alice).ticket;
    now += 30_000;
    expect(tickets.redeem(late)).toBeNull();
  });

  it('never outlives the token it was bought with', () => {
    const tickets = createTicketIssuer({ ttlMs: 30_000, secret: TEST_SECRET });
    const expiresAt = Date.now() + 5_000;
    expect(tickets.issue({ ...alice, expiresAt }).expiresAt).toBe(expiresAt);
  });

  it('refuses any altered ticket (seeded)', () => {
    const tickets = createTicketIssuer({ ttlMs: 30_000, secret: TEST_SECRET });
    fc.assert(
      fc.property(fc.nat(), fc.integer({ min: 1, max: 25 }), (position, delta) => {
        const { ticket } = tickets.issue(alice);
        const i = position % ticket.length;
        const altered =
          ticket.slice(0, i) + String.fromCharCode(ticket.charCodeAt(i) ^ delta) + ticket.slice(i + 1);
        return tickets.redeem(altered) === null;
      }),
      { seed: 14, numRuns: 200 },
    );
  });

  it('is verified by another instance sharing jwt.secret, and refused by one with another key', () => {
    const issuing = createTicketIssuer({ ttlMs: 30_000, secret: TEST_SECRET });
    const sibling = createTicketIssuer({ ttlMs: 30_000, secret: TEST_SECRET });
    const stranger = createTicketIssuer({ ttlMs: 30_000, secret: `${TEST_SECRET}-other` });
    expect(sibling.redeem(issuing.issue(alice).ticket)).toEqual(alice);
    expect(stranger.redeem(issuing.issue(alice).ticket)).toBeNull();
  });

  it('is issued by POST /auth/ticket for a Bearer token and opens a WebSocket once with ?ticket=', async () => {
    const fixture = track(await startTestServer(), (f) => f.close());
    const base = `http://127.0.0.1:${fixture.port}`;
    expect((await fetch(`${base}/auth/ticket`, { method: 'POST' })).status).toBe(401);
    expect((await fetch(`${base}/auth/ticket`)).status).toBe(405);
    const answer = await fetch(`${base}/auth/ticket`, {
      method: 'POST',
      headers: { authorization: `Bearer ${await fixture.sign('alice')}` },
    });
    expect(answer.status).toBe(200);
    expect(answer.headers.get('cache-control')).toBe('no-store');
    const { ticket } = (await answer.json()) as { ticket: string };
    const socket = new WebSocket(`${fixture.wsUrl}?ticket=${encodeURIComponent(ticket)}`);
    await new Promise((resolve, reject) => {
      socket.once('open', resolve);
      socket.once('error', reject);
    });
    socket.close();
    // Single use: the same URL again is refused before the upgrade.
    expect(await upgradeStatusOf(`${fixture.wsUrl}?ticket=${encodeURIComponent(ticket)}`)).toBe(401);
    // An invalid ticket is a 401 even with a valid token beside it: no fall-through to another credential.
    const token = await fixture.sign('alice');
    expect(await upgradeStatusOf(`${fixture.wsUrl}?ticket=forged.x&token=${token}`)).toBe(401);
  });
});
