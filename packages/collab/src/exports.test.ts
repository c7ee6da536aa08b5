import { describe, expect, it } from 'vitest';
import * as client from './index.ts';
import * as server from './server/index.ts';

describe('public entry points', () => {
  it('export the documented values', () => {
    expect(Object.keys(client).sort()).toEqual(
      [
        'applyChecked',
        'codePointLength',
        'codePointsToUtf16',
        'createOtClient',
        'diffToOp',
        'findOpProblem',
        'fitsSubmitLimits',
        'normalizeOp',
        'splitOpForSubmit',
        'textType',
        'toWellFormed',
        'transformCursor',
        'transformSelection',
        'transformUtf16Offset',
        'utf16ToCodePoints',
      ].sort(),
    );
    expect(typeof client.textType.transform).toBe('function');
    expect(Object.keys(server).sort()).toEqual([
      'createCollabService',
      'createMemoryDocStore',
      'createRedisDocStore',
    ]);
  });
});
