import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { benchDir } from '../orchestrator/children.ts';
import { replaceMarkedBlock } from '../orchestrator/markedBlock.ts';
import type { ScaleConfig } from './scaleConfig.ts';
import { scaleMarkdown } from './scaleReport.ts';
import type { ScaleResults } from './scaleResults.ts';

const resultsDir = join(benchDir, 'results');
const benchmarksFile = join(benchDir, '..', 'BENCHMARKS.md');

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
    replaceMarkedBlock(benchmarksFile, 'scale', markdown);
    written.push('BENCHMARKS.md (scale block)');
  }
  return written;
}
