export { SwitchboardProvider } from './SwitchboardProvider.tsx';
export { useSwitchboard } from './useSwitchboard.ts';
export { useTRPC } from './useTRPC.ts';
export { useChannel } from './useChannel.ts';
export { usePresence } from './usePresence.ts';
export { usePublish } from './usePublish.ts';
export { useConnectionState } from './useConnectionState.ts';

export type { SwitchboardProviderProps } from './SwitchboardProvider.tsx';
export type { UseChannelOptions } from './useChannel.ts';
export type { UntypedSwitchboardClient } from './useSwitchboard.ts';
