import { demoAppConfig } from '@switchboard/demo-ui/vite';

export default demoAppConfig('dashboard');
