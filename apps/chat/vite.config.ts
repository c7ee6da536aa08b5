import { demoAppConfig } from './src/shell/viteConfig.ts';

export default demoAppConfig('chat');
