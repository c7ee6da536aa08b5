import { demoAppConfig } from '../chat/src/shell/viteConfig.ts';

export default demoAppConfig('collab');
