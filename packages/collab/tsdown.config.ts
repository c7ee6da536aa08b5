import { libraryConfig } from '../../tsdown.base.ts';

// `.` is the browser-safe client half (no Node imports); `./server` is the Node half (node:crypto, ioredis).
export default libraryConfig({ index: 'src/index.ts', server: 'src/server/index.ts' }, { platform: 'node' });
