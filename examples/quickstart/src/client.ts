// client.ts: `node dist/client.js` while the server runs
import { createSwitchboardClient } from '@switchboard/client';
import WebSocket from 'ws'; // Node 20 has no global WebSocket; browsers do, so leave this out there
import { mintToken } from './auth.js';
import { chat } from './contract.js';
import type { AppRouter } from './router.js'; // a type only: no server code in the client

const client = createSwitchboardClient<AppRouter>({
  url: process.env.SWITCHBOARD_URL ?? 'ws://127.0.0.1:3000/ws',
  getToken: () => mintToken('u_alice', 'alice'), // called before every connection attempt
  WebSocket,
});

const room = client.channel(chat, 'room-1');
const received = new Promise<string>((resolve) => {
  room.subscribe({
    onEvent(event) {
      if (event.type === 'message') {
        console.log(`${event.sender?.name ?? 'server'}: ${event.payload.text}`); // payload typed per event type
        if (event.sender) resolve(event.payload.text);
      }
    },
    onGap: () => console.log('some events could not be recovered'),
  });
});

const { id } = await room.publish('message', { text: 'hello' }); // validated here, then by the server
console.log(`published ${id}`);
console.log(`received: ${await received}`);
console.log(`signed in as ${(await client.trpc.whoami.query()).name}`);
await client.close();
