#!/usr/bin/env node
/**
 * `pnpm check:packages`: builds every published package (`packages/*` without `"private": true`), packs it
 * the way `pnpm publish` does (publishConfig.exports swapped in, workspace:/catalog: versions resolved), and
 * checks the tarball:
 * - publint --strict (warnings count as errors);
 * - arethetypeswrong with the ESM-only profile (we ship no CommonJS, so node10 and require() rows are out);
 * - `npm pack --dry-run` and the tarball list only dist/, README.md, LICENSE and package.json.
 * Exits non-zero on the first package that fails, naming it.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

const root = resolve(import.meta.dirname, '..');
const SHIPPED = /^(dist\/.+\.(js|js\.map|d\.ts)|README\.md|LICENSE|package\.json)$/;

/** Runs a command, printing its output; returns stdout when `capture` is set. */
function run(command, args, { cwd = root, capture = false } = {}) {
  // pnpm passes its own settings as npm_config_* variables, which npm warns about; npm needs none of them.
  const env = Object.fromEntries(Object.entries(process.env).filter(([key]) => !/^npm_config_/i.test(key)));
  return execFileSync(command, args, {
    cwd,
    env,
    stdio: capture ? ['ignore', 'pipe', 'inherit'] : 'inherit',
  })?.toString();
}

function publishedPackages() {
  return readdirSync(join(root, 'packages'))
    .map((name) => join(root, 'packages', name))
    .filter((dir) => {
      const manifest = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8'));
      return manifest.private !== true;
    });
}

function checkFileList(name, paths, source) {
  const unexpected = paths.filter((path) => !SHIPPED.test(path));
  if (unexpected.length > 0) throw new Error(`${name}: ${source} ships ${unexpected.join(', ')}`);
  for (const required of ['README.md', 'LICENSE', 'package.json']) {
    if (!paths.includes(required)) throw new Error(`${name}: ${source} lacks ${required}`);
  }
}

const out = mkdtempSync(join(tmpdir(), 'switchboard-check-'));
try {
  run('pnpm', ['exec', 'turbo', 'run', 'build', '--filter=./packages/*', '--output-logs=errors-only']);
  for (const dir of publishedPackages()) {
    const packed = JSON.parse(
      run('pnpm', ['pack', '--json', '--pack-destination', out], { cwd: dir, capture: true }),
    );
    const { name, filename } = packed;
    console.log(`\n── ${name} (${filename})`);
    const tarballPaths = run('tar', ['tzf', filename], { capture: true })
      .split('\n')
      .filter((line) => line && !line.endsWith('/'))
      .map((line) => line.replace(/^package\//, ''));
    checkFileList(name, tarballPaths, 'the pnpm tarball');
    const [dryRun] = JSON.parse(run('npm', ['pack', '--dry-run', '--json'], { cwd: dir, capture: true }));
    checkFileList(
      name,
      dryRun.files.map((file) => file.path),
      'npm pack --dry-run',
    );
    console.log(`files: ${tarballPaths.join(' ')}`);
    run('pnpm', ['exec', 'publint', '--strict', filename]);
    run('pnpm', ['exec', 'attw', '--profile', 'esm-only', '--format', 'table-flipped', filename]);
  }
  console.log('\nEvery published package passed publint, attw (esm-only) and the file list check.');
} finally {
  rmSync(out, { recursive: true, force: true });
}
