import { defineConfig, type UserConfig } from 'tsdown';

/**
 * How every published package is built: ESM only, one `.js` + `.d.ts` + source map per entry (the keys of
 * `entry` are the file names the package's `publishConfig.exports` points at). Dependencies and peer
 * dependencies stay imports (tsdown's default); nothing of `node_modules` is bundled.
 *
 * Only what `pnpm pack` ships uses this output: inside the monorepo, `exports` points at `src/*.ts`.
 */
export function libraryConfig(entry: Record<string, string>, overrides: UserConfig = {}) {
  return defineConfig({
    entry,
    format: 'esm',
    // `.js`/`.d.ts` (the packages are `"type": "module"`), not tsdown's `.mjs` default for Node targets.
    fixedExtension: false,
    target: 'node20.19',
    dts: true,
    sourcemap: true,
    clean: true,
    // Stable file names for shared chunks keep the tarball diff readable between versions.
    hash: false,
    ...overrides,
  });
}
