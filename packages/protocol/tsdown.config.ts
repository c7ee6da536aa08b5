import { libraryConfig } from '../../tsdown.base.ts';

export default libraryConfig({ index: 'src/index.ts', demo: 'src/demo/index.ts' }, { platform: 'neutral' });
