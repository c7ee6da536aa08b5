// server.ts: `node dist/server.js`
import { createSwitchboardServer } from '@switchboard/server';
import { secret } from './auth.js';
import { chat } from './contract.js';
import { appRouter } from './router.js';

const server = createSwitchboardServer({ router: appRouter, channels: [chat], jwt: { secret } });
const { port } = await server.listen(Number(process.env.PORT ?? 3000));
console.log(`listening on ws://127.0.0.1:${port}/ws`);

// The server publishes too, typed like the client: `publish('mesage', …)` or `{ txt }` does not compile.
const room = server.channel(chat, 'room-1');
const announcements = setInterval(() => {
  room.publish('message', { text: `server time ${new Date().toISOString()}` }).catch(console.error);
}, 5_000);

process.once('SIGINT', () => {
  clearInterval(announcements);
  void server.close(); // graceful: clients are asked to reconnect elsewhere, then closed with 1001
});
process.once('SIGTERM', () => process.emit('SIGINT'));
