/**
 * Characters removed from display names: they render as nothing or reorder what follows, so they let a
 * name look empty or like someone else's ("alice\u202Egnp.exe"). Control characters (Cc), format
 * characters (Cf: zero-width space/joiners, bidi embeddings, overrides and isolates U+202A–202E and
 * U+2066–2069, LRM/RLM/ALM, BOM, soft hyphen, tags), lone surrogates (Cs), and letters that render blank
 * (Hangul fillers, combining grapheme joiner, Braille blank). Recommendation: Unicode TR 36 §3.4 and the
 * UTS 39 "Default_Ignorable" set this overlaps with.
 */
// Default_Ignorable_Code_Point covers what renders as nothing although it is a letter or mark: variation
// selectors (U+FE00–FE0F, U+E0100–E01EF), Khmer inherent vowels (U+17B4/5), Hangul fillers, the combining
// grapheme joiner, Mongolian free variation selectors. The Braille blank (U+2800) is a symbol that looks empty.
const INVISIBLE = /[\p{Cc}\p{Cf}\p{Cs}\p{Default_Ignorable_Code_Point}\u2800]/gu;
/** Line breaks and tabs become spaces before invisible characters go, so "a\nb" stays two words. */
const BREAKS = /[\t\n\v\f\r\u0085\u2028\u2029]/g;

/**
 * A display name as it is stored and shown: invisible and reordering characters removed, runs of white
 * space collapsed to one space, trimmed, then NFC-normalised (last, because removing a character can bring
 * a base letter and its combining mark together). Idempotent. May return '' (the caller refuses that).
 */
export function normalizeDisplayName(raw: string): string {
  return raw.replace(BREAKS, ' ').replace(INVISIBLE, '').replace(/\s+/gu, ' ').trim().normalize('NFC');
}
