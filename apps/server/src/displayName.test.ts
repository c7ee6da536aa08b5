import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { normalizeDisplayName } from './displayName.ts';

const SEED = Number(process.env.FC_SEED ?? 7_011);
/** Characters that must never survive: controls, zero-width, bidi embeddings/overrides/isolates/marks, BOM. */
const FORBIDDEN = /[\p{Cc}\p{Cf}\p{Cs}\p{Default_Ignorable_Code_Point}]/u;
const invisible = fc.constantFrom(
  '\u0000',
  '\u0007',
  '\u007F',
  '\u200B',
  '\u200C',
  '\u200D',
  '\u200E',
  '\u200F',
  '\u202A',
  '\u202B',
  '\u202C',
  '\u202D',
  '\u202E',
  '\u2060',
  '\u2066',
  '\u2067',
  '\u2068',
  '\u2069',
  '\u061C',
  '\uFEFF',
  '\u00AD',
  '\u034F',
  '\u3164',
  '\u2800',
  '\uD800',
  '\uDC00',
  '\u{E0041}',
  // Default-ignorable letters and marks (variation selectors, Khmer inherent vowels, Mongolian selectors).
  '\uFE0F',
  '\uFE00',
  '\u{E0100}',
  '\u17B4',
  '\u17B5',
  '\u180B',
  '\u115F',
  '\uFFA0',
);
/** Any text, weighted towards the characters the rule is about. */
const hostile = fc
  .array(
    fc.oneof(
      fc.string({ unit: 'binary', maxLength: 3 }),
      invisible,
      fc.constantFrom(' ', '\t', '\n', '\u0085', '\u2028', '\u00A0', '\u3000', 'e\u0301', '\u0301'),
    ),
    { maxLength: 12 },
  )
  .map((parts) => parts.join(''));
const visibleName = fc.stringMatching(/^[A-Za-z0-9\u00C0-\u00FF\u4E00-\u4E20]{1,8}( [A-Za-z0-9]{1,8}){0,2}$/);

describe('normalizeDisplayName', () => {
  it('leaves no control, format (zero-width, bidi) or lone surrogate character, and is NFC, trimmed and idempotent', () => {
    fc.assert(
      fc.property(hostile, (raw) => {
        const name = normalizeDisplayName(raw);
        expect(name).not.toMatch(FORBIDDEN);
        expect(name).toBe(name.normalize('NFC'));
        expect(name).toBe(name.trim());
        expect(name).not.toMatch(/\s\s/);
        expect(normalizeDisplayName(name)).toBe(name);
      }),
      { seed: SEED, numRuns: 2000 },
    );
  });

  it('keeps a visible name as it is, whatever invisible characters are slipped into it', () => {
    fc.assert(
      fc.property(
        visibleName,
        fc.array(fc.tuple(fc.nat(), invisible), { maxLength: 6 }),
        (name, insertions) => {
          const chars = [...name];
          for (const [at, char] of insertions) chars.splice(at % (chars.length + 1), 0, char);
          expect(normalizeDisplayName(chars.join(''))).toBe(name);
        },
      ),
      { seed: SEED, numRuns: 1000 },
    );
  });

  it('composes to NFC and turns line breaks and tabs into single spaces', () => {
    expect(normalizeDisplayName('Jose\u0301')).toBe('Jos\u00E9');
    // A zero-width space between a letter and its accent must not keep them apart.
    expect(normalizeDisplayName('e\u200B\u0301')).toBe('\u00E9');
    expect(normalizeDisplayName(' ann\t\n  lee ')).toBe('ann lee');
    expect(normalizeDisplayName('alice\u202Egnp.exe')).toBe('alicegnp.exe');
  });

  it('returns an empty name for text with nothing visible', () => {
    expect(normalizeDisplayName('\u200B\u202E\u2066\uFEFF \u3164')).toBe('');
  });
});
