/**
 * A project outside the monorepo that installs Switchboard the way a user does: every published package is
 * packed with `pnpm pack` (which swaps in `publishConfig.exports` and turns `workspace:`/`catalog:` into
 * versions), and the tarballs are installed with npm from a temporary directory, next to the third-party
 * packages a user would add (at the versions of the monorepo's catalog, so runs are reproducible).
 * Add a package to `THIRD_PARTY` when a consumer file imports it.
 */
import { execFile } from 'node:child_process';
import { cpSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';

export const repoRoot = resolve(import.meta.dirname, '../..');
const run = promisify(execFile);

/** What a user's app installs next to Switchboard: the peers, `ws`, `jose`, and the build tools. */
const THIRD_PARTY = {
  dependencies: [
    '@trpc/client',
    '@trpc/server',
    '@trpc/tanstack-react-query',
    '@tanstack/react-query',
    'zod',
    'ws',
    'jose',
    'react',
    'react-dom',
  ],
  devDependencies: [
    'typescript',
    '@types/node',
    '@types/ws',
    '@types/react',
    '@types/react-dom',
    'vite',
    '@vitejs/plugin-react',
  ],
};

/** Environment for npm and node: without pnpm's npm_config_* settings, which npm would warn about or obey. */
export function cleanEnv(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const env = Object.fromEntries(Object.entries(process.env).filter(([key]) => !/^npm_config_/i.test(key)));
  return { ...env, ...extra };
}

/** Runs a command in `cwd`; resolves with its output, rejects with it (exit code and stdout) on failure. */
export async function exec(command: string, args: string[], cwd: string) {
  return run(command, args, { cwd, env: cleanEnv(), maxBuffer: 16 * 1024 * 1024 });
}

function catalogVersions(): Map<string, string> {
  const yaml = readFileSync(join(repoRoot, 'pnpm-workspace.yaml'), 'utf8');
  const catalog = yaml.split(/^catalog:\s*$/m)[1]?.split(/^\S/m)[0] ?? '';
  const versions = new Map<string, string>();
  for (const match of catalog.matchAll(/^\s+"?([^":\s]+)"?:\s*(\S+)\s*$/gm))
    versions.set(match[1]!, match[2]!);
  return versions;
}

function publishedPackageDirs(): string[] {
  return readdirSync(join(repoRoot, 'packages'))
    .map((name) => join(repoRoot, 'packages', name))
    .filter((dir) => JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')).private !== true);
}

/**
 * Builds and packs every published package, then installs the tarballs into a new directory under the OS
 * temp dir (outside the workspace, so nothing resolves through it). Returns the project's path.
 */
export async function createConsumerProject(): Promise<string> {
  await exec(
    'pnpm',
    ['exec', 'turbo', 'run', 'build', '--filter=./packages/*', '--output-logs=errors-only'],
    repoRoot,
  );
  const project = mkdtempSync(join(tmpdir(), 'switchboard-consumer-'));
  const tarballDir = join(project, 'tarballs');
  mkdirSync(tarballDir);
  const switchboard: Record<string, string> = {};
  for (const dir of publishedPackageDirs()) {
    const { stdout } = await exec('pnpm', ['pack', '--json', '--pack-destination', tarballDir], dir);
    const { name, filename } = JSON.parse(stdout) as { name: string; filename: string };
    switchboard[name] = `file:${filename}`;
  }
  const versions = catalogVersions();
  const pick = (names: string[]) =>
    Object.fromEntries(
      names.map((name) => {
        const version = versions.get(name);
        if (!version) throw new Error(`${name} is not in the pnpm catalog`);
        return [name, version];
      }),
    );
  writeFileSync(
    join(project, 'package.json'),
    JSON.stringify(
      {
        name: 'switchboard-consumer',
        private: true,
        type: 'module',
        dependencies: { ...switchboard, ...pick(THIRD_PARTY.dependencies) },
        devDependencies: pick(THIRD_PARTY.devDependencies),
        // A tarball's dependency on another Switchboard package names a version no registry has yet.
        overrides: switchboard,
      },
      null,
      2,
    ),
  );
  await exec('npm', ['install', '--no-audit', '--no-fund', '--loglevel=error'], project);
  return project;
}

/** Copies a file or folder of this repository into the consumer project. */
export function copyInto(project: string, from: string, to: string) {
  cpSync(join(repoRoot, from), join(project, to), { recursive: true });
}
