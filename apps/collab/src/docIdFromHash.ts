import { docIdSchema } from '@switchboard/protocol/demo';

/** The document everyone lands in first. */
export const DEFAULT_DOC_ID = 'welcome';

/** The document named in the URL (`#doc-id`), when it is a valid id. */
export function docIdFromHash(hash: string): string | null {
  const parsed = docIdSchema.safeParse(decodeURIComponent(hash.replace(/^#/, '')));
  return parsed.success ? parsed.data : null;
}
