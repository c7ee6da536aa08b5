/**
 * Switchboard as a user gets it: packed tarballs installed with npm into a project outside the monorepo.
 * The Quick start (examples/quickstart, also the main README's) runs on plain `node`, with the server and the
 * client in separate processes; it type-checks under nodenext and bundler resolution with the strictest
 * flags and the libraries' own .d.ts checked; a misspelled event type does not compile; the React chat room
 * of @switchboard/react's README type-checks and builds with Vite.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cleanEnv, copyInto, createConsumerProject, exec, repoRoot } from './consumerProject.ts';

let project: string;
const children: ChildProcess[] = [];

beforeAll(async () => {
  project = await createConsumerProject();
  copyInto(project, 'examples/quickstart/src', 'src');
  copyInto(project, 'examples/quickstart/tsconfig.json', 'tsconfig.json');
  for (const config of ['tsconfig.strict-nodenext.json', 'tsconfig.strict-bundler.json']) {
    copyInto(project, `scripts/consumer-test/fixtures/${config}`, config);
  }
  copyInto(project, 'scripts/consumer-test/fixtures/tsconfig.misspelled.json', 'tsconfig.misspelled.json');
  copyInto(project, 'scripts/consumer-test/fixtures/misspelled.ts', 'typo/misspelled.ts');
});

afterAll(() => {
  for (const child of children) if (child.exitCode === null) child.kill('SIGKILL');
  if (project && !process.env.KEEP_CONSUMER_PROJECT) rmSync(project, { recursive: true, force: true });
});

/**
 * Errors of @trpc/server 11's own declarations, outside Switchboard: its ws adapter types read
 * `import ws from "ws"; ws.WebSocket`, which @types/ws's ES module typings (index.d.mts) do not have, so every
 * ESM project that installs @types/ws next to @trpc/client gets them once `skipLibCheck` is off. They are
 * matched exactly (file, code and message) and reported apart, so any other error still fails the test.
 */
const UPSTREAM_TRPC_WS_TYPES =
  /^(\.\.\/)*node_modules\/@trpc\/server\/dist\/ws-[\w-]+\.d\.mts\(\d+,\d+\): error TS2694: Namespace 'WebSocket' has no exported member '(WebSocket|WebSocketServer)'\.$/;

/**
 * Runs tsc in `cwd` with the consumer project's TypeScript. Returns the exit code and the errors, one per
 * line, without the known upstream ones (`upstream` counts those).
 */
async function typecheck(cwd: string, config: string) {
  let output: { code: number; stdout: string } = { code: 0, stdout: '' };
  try {
    await exec(join(project, 'node_modules/.bin/tsc'), ['-p', config], cwd);
  } catch (error) {
    output = error as { code: number; stdout: string };
  }
  const all = output.stdout.split('\n').filter((line) => /error TS\d+/.test(line));
  const errors = all.filter((line) => !UPSTREAM_TRPC_WS_TYPES.test(line));
  return { exitCode: output.code, errors, upstream: all.length - errors.length };
}

/** Starts `node <script>` in the project; resolves once `pattern` appears in its output, with the match. */
function startNode(script: string, env: Record<string, string>, pattern: RegExp, timeoutMs = 15_000) {
  const child = spawn(process.execPath, [script], { cwd: project, env: cleanEnv(env) });
  children.push(child);
  let output = '';
  const matched = new Promise<RegExpMatchArray>((resolve, reject) => {
    const timer = setTimeout(
      () => reject(new Error(`${script}: no ${pattern} in ${timeoutMs} ms:\n${output}`)),
      timeoutMs,
    );
    const onData = (chunk: Buffer) => {
      output += chunk.toString();
      const match = output.match(pattern);
      if (match) {
        clearTimeout(timer);
        resolve(match);
      }
    };
    child.stdout.on('data', onData);
    child.stderr.on('data', onData);
    child.once('exit', (code) => {
      clearTimeout(timer);
      if (!output.match(pattern)) reject(new Error(`${script} exited with ${code}:\n${output}`));
    });
  });
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  return { child, matched, exited, output: () => output };
}

describe("the main README's Quick start", () => {
  it('is examples/quickstart: every source file and the tsconfig appear in it verbatim', () => {
    const readme = readFileSync(join(repoRoot, 'README.md'), 'utf8');
    const quickStart = readme.slice(
      readme.indexOf('## Quick start'),
      readme.indexOf('\n## ', readme.indexOf('## Quick start') + 1),
    );
    const example = join(repoRoot, 'examples/quickstart');
    const files = [...readdirSync(join(example, 'src')).map((file) => join('src', file)), 'tsconfig.json'];
    for (const file of files) {
      const source = readFileSync(join(example, file), 'utf8').trimEnd();
      expect(
        quickStart.includes(source),
        `README's Quick start lacks examples/quickstart/${file} as it is`,
      ).toBe(true);
    }
  });
});

describe('the Quick start, installed from the tarballs', () => {
  it("builds with the example's own tsconfig (nodenext, strict, exactOptionalPropertyTypes): tsc exits 0", async () => {
    expect(await typecheck(project, 'tsconfig.json')).toEqual({ exitCode: 0, errors: [], upstream: 0 });
    expect(existsSync(join(project, 'dist/server.js'))).toBe(true);
  });

  it.each(['nodenext', 'bundler'])(
    'type-checks under %s resolution with skipLibCheck off: no error in Switchboard or the example',
    async (resolution) => {
      const { errors, upstream } = await typecheck(project, `tsconfig.strict-${resolution}.json`);
      expect(errors).toEqual([]);
      if (upstream > 0)
        console.info(`${resolution}: ${upstream} known errors in @trpc/server's ws adapter types`);
    },
  );

  it('runs on plain node: a publish of the client process reaches its subscriber through the server process', async () => {
    const server = startNode('dist/server.js', { PORT: '0' }, /listening on (ws:\/\/\S+)/);
    const [, url] = await server.matched;
    const client = startNode('dist/client.js', { SWITCHBOARD_URL: url! }, /signed in as alice/);
    await client.matched;
    expect(await client.exited).toBe(0);
    expect(client.output()).toMatch(/^published \S+$/m);
    expect(client.output()).toMatch(/^alice: hello$/m);
    expect(client.output()).toMatch(/^received: hello$/m);

    server.child.kill('SIGINT');
    expect(await server.exited).toBe(0);
  });

  it('refuses a misspelled event type at compile time, on the client and on the server', async () => {
    const { exitCode, errors } = await typecheck(project, 'tsconfig.misspelled.json');
    expect(exitCode).not.toBe(0);
    expect(errors).toHaveLength(2);
    for (const error of errors) {
      expect(error).toMatch(/typo\/misspelled\.ts\(\d+,\d+\): error TS2345: Argument of type '"mesage"'/);
    }
  });
});

describe("the chat room of @switchboard/react's README", () => {
  let app: string;

  beforeAll(() => {
    app = join(project, 'react-app');
    copyInto(project, 'scripts/consumer-test/fixtures/react', 'react-app');
    const readme = readFileSync(join(repoRoot, 'packages/react/README.md'), 'utf8');
    const component = [...readme.matchAll(/```tsx\n([\s\S]*?)```/g)]
      .map((match) => match[1]!)
      .find((code) => code.includes('SwitchboardProvider'));
    if (!component) throw new Error('packages/react/README.md has no tsx block with SwitchboardProvider');
    writeFileSync(join(app, 'src/App.tsx'), component);
  });

  it('type-checks (bundler, strict, exactOptionalPropertyTypes, skipLibCheck: false) without errors', async () => {
    expect((await typecheck(app, 'tsconfig.json')).errors).toEqual([]);
  });

  it('builds with Vite', async () => {
    await exec(join(project, 'node_modules/.bin/vite'), ['build'], app);
    const assets = readdirSync(join(app, 'dist/assets'));
    expect(assets.some((file) => file.endsWith('.js'))).toBe(true);
    const bundle = assets
      .filter((file) => file.endsWith('.js'))
      .map((file) => readFileSync(join(app, 'dist/assets', file), 'utf8'))
      .join('');
    // The hooks' code is in the bundle, not only the app's.
    expect(bundle).toContain('useSyncExternalStore');
  });
});
