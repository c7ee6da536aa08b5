import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { benchDir } from '../orchestrator/children.ts';
import type { ScaleConfig } from './scaleConfig.ts';
import { scaleMarkdown } from './scaleReport.ts';
import type { ScaleResults } from './scaleResults.ts';

const resultsDir = join(benchDir, 'results');
const benchmarksFile = join(benchDir, '..', 'BENCHMARKS.md');
const BLOCK_START = '<!-- bench:scale:start -->';
const BLOCK_END = '<!-- bench:scale:end -->';

/**
 * Writes `bench/results/scale-<timestamp>.{json,md}` and `scale-latest.{json,md}`. Only a full-size run
 * that completed its broadcasts replaces the scale block of BENCHMARKS.md; smaller runs (harness checks)
 * are suffixed `-small` and leave BENCHMARKS.md alone. Returns the paths written.
 */
export function writeScaleResults(results: ScaleResults, config: ScaleConfig): string[] {
  mkdirSync(resultsDir, { recursive: true });
  const stamp = results.startedAt.replace(/[:.]/g, '-');
  const suffix = config.full ? '' : '-small';
  const markdown = scaleMarkdown(results, config);
  const json = `${JSON.stringify(results, null, 2)}\n`;
  const written: string[] = [];
  for (const name of [`scale-${stamp}${suffix}`, `scale-latest${suffix}`]) {
    writeFileSync(join(resultsDir, `${name}.json`), json);
    writeFileSync(join(resultsDir, `${name}.md`), `${markdown}\n`);
    written.push(`bench/results/${name}.{json,md}`);
  }
  if (config.full && results.broadcasts.length > 0) {
    updateBenchmarksFile(markdown);
    written.push('BENCHMARKS.md (scale block)');
  }
  return written;
}

/** Replaces the scale block of BENCHMARKS.md (appended at the end the first time). */
function updateBenchmarksFile(markdown: string) {
  const block = `${BLOCK_START}\n${markdown}\n${BLOCK_END}`;
  const current = existsSync(benchmarksFile) ? readFileSync(benchmarksFile, 'utf8') : '# Benchmarks\n';
  const start = current.indexOf(BLOCK_START);
  const end = current.indexOf(BLOCK_END);
  const next =
    start >= 0 && end > start
      ? current.slice(0, start) + block + current.slice(end + BLOCK_END.length)
      : `${current.trimEnd()}\n\n${block}\n`;
  writeFileSync(benchmarksFile, next);
}
