import { describeBroker } from './contract.ts';
import { createMemoryBroker } from './memory.ts';

describeBroker('memory', ({ historySize }) => createMemoryBroker({ historySize }));
