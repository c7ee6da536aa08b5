import { libraryConfig } from '../../tsdown.base.ts';

// Runs in browsers and in Node (with `ws`): no Node built-ins.
export default libraryConfig({ index: 'src/index.ts' }, { platform: 'neutral' });
