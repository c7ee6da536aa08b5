import { transformer } from '@switchboard/protocol';
import { createTRPCClient, createWSClient, wsLink } from '@trpc/client';
import { WebSocket, WebSocketServer } from 'ws';
const wss = new WebSocketServer({ port: 0, host: '127.0.0.1' });
await new Promise<void>((r) => wss.once('listening', () => r()));
let dropped = false;
wss.on('connection', (socket) => {
  console.log('conn');
  socket.on('message', (d) => {
    const text = d.toString(); console.log('frame', text);
    const m = JSON.parse(text);
    if (m.method !== 'subscription') return;
    socket.send(`{"id":${m.id},"result":{"type":"started"}}`);
    if (dropped) return; dropped = true;
    socket.send(`{"id":${m.id},"result":{"type":"data","id":"b:7","data":{"json":{"id":"b:7","data":{"type":"tick"}}}}}`);
    setTimeout(() => socket.terminate(), 20);
  });
});
const wsClient = createWSClient({ url: `ws://127.0.0.1:${(wss.address() as any).port}`, WebSocket: WebSocket as never, onClose: (c) => console.log('onClose', c), onOpen: () => console.log('open') });
const client = createTRPCClient<any>({ links: [wsLink({ client: wsClient, transformer })] });
client.channel.subscribe.subscribe({ channel: 'bench:c0' }, { onData(d: any) { console.log('data', d) }, onError(e: any) { console.log('err', e) } , onStarted() { console.log('started') } });
setTimeout(() => process.exit(0), 3000);
