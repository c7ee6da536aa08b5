import { existsSync, readFileSync, writeFileSync } from 'node:fs';

/**
 * Replaces the part of `file` between the `<!-- bench:<name>:start -->` and `<!-- bench:<name>:end -->`
 * markers with `markdown` (appended with its markers the first time). What is around the block (the method
 * and the analysis of BENCHMARKS.md) is written by hand and left as it is.
 */
export function replaceMarkedBlock(file: string, name: string, markdown: string): void {
  const startMarker = `<!-- bench:${name}:start -->`;
  const endMarker = `<!-- bench:${name}:end -->`;
  const block = `${startMarker}\n${markdown}\n${endMarker}`;
  const current = existsSync(file) ? readFileSync(file, 'utf8') : '# Benchmarks\n';
  const start = current.indexOf(startMarker);
  const end = current.indexOf(endMarker);
  const next =
    start >= 0 && end > start
      ? current.slice(0, start) + block + current.slice(end + endMarker.length)
      : `${current.trimEnd()}\n\n${block}\n`;
  writeFileSync(file, next);
}
