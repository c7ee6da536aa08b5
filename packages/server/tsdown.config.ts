import { libraryConfig } from '../../tsdown.base.ts';

export default libraryConfig(
  { index: 'src/index.ts', redis: 'src/broker/redis.ts', testing: 'src/testing.ts' },
  { platform: 'node' },
);
