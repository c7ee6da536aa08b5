import { startServer } from './orchestrator/servers.ts';
import { verifyHarness } from './orchestrator/verify.ts';
const sio = await startServer('sio');
const sb = await startServer('sb');
console.log(await verifyHarness({ sio: sio.port, sb: sb.port }));
await sio.stop(); await sb.stop();
process.exit(0);
