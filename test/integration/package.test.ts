/**
 * A user without a toolchain can use the package (issue 2, "Project foundation"): the tracked
 * tree is copied to a temporary directory (never built in place: build/ there is everyone's),
 * its dev dependencies installed, the addon prebuilt with `npm run prebuild` (prebuildify
 * --napi --strip) and the package packed with `npm pack`. The tarball is then installed into
 * an empty project with a PATH holding only node, npm and sh (CC/CXX = /bin/false), and
 * imported: the exports load, the addon that gets loaded is the shipped prebuild, and it
 * talks to the kernel. Slow (a full native build and two installs): minutes, not seconds.
 */
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, realpathSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { runAsync as sh, TestNetns } from '../helpers/netns.js';
import { skipUnlessRoot } from '../helpers/privileges.js';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
const MINUTES = 60_000;

/** Which program `name` is on the host's PATH (absolute, symlinks resolved). */
async function which(name: string): Promise<string> {
  return realpathSync((await sh('sh', ['-c', `command -v ${name}`])).trim());
}

/** The environment of a user without a compiler: only node, npm and sh on PATH. */
async function toolchainFreeEnv(bin: string): Promise<NodeJS.ProcessEnv> {
  mkdirSync(bin, { recursive: true });
  for (const tool of ['node', 'npm', 'sh']) symlinkSync(await which(tool), join(bin, tool));
  // A clean environment: nothing from the npm/vitest run that started this test leaks in.
  return { PATH: bin, HOME: process.env.HOME ?? '/root', CC: '/bin/false', CXX: '/bin/false', LANG: 'C.UTF-8' };
}

describe('the npm package', () => {
  let work: string;
  let tarball: string;
  let entries: string[];
  let app: string;
  let cjsApp: string;
  let userEnv: NodeJS.ProcessEnv;
  let src: string;
  /** What `npm pack` said when there was no prebuild yet (it must refuse). */
  let packWithoutPrebuild: string;

  beforeAll(async () => {
    work = mkdtempSync(join(tmpdir(), 'vmpbench-pkg-'));
    src = join(work, 'src');
    // The tracked files as they are in the working tree (a fresh clone in CI).
    const files = (await sh('git', ['ls-files', '-z'], { cwd: ROOT })).split('\0').filter(Boolean);
    for (const file of files) {
      if (!existsSync(join(ROOT, file))) continue;
      mkdirSync(dirname(join(src, file)), { recursive: true });
      copyFileSync(join(ROOT, file), join(src, file));
    }
    const npm = (args: string[], cwd: string) => sh('npm', [...args, '--no-audit', '--no-fund'], { cwd, timeout: 15 * MINUTES });
    // Install scripts skipped: the prebuild below is the one native build this test needs.
    await npm(['ci', '--ignore-scripts', '--prefer-offline'], src);
    // The prepack check: no tarball without the prebuild.
    packWithoutPrebuild = await npm(['pack', '--dry-run'], src).then(
      (out) => `packed: ${out}`,
      (error: Error) => error.message,
    );
    await npm(['run', 'prebuild'], src);
    // `npm pack` runs `prepare` (tsc → dist/) as publishing does.
    const packed = JSON.parse(await npm(['pack', '--json', '--pack-destination', work], src)) as { filename: string; files: { path: string }[] }[];
    tarball = join(work, packed[0]!.filename);
    entries = packed[0]!.files.map((f) => f.path);

    app = join(work, 'app');
    mkdirSync(app);
    writeFileSync(join(app, 'package.json'), JSON.stringify({ name: 'vmplumb-user', version: '1.0.0', private: true, type: 'module' }));
    userEnv = await toolchainFreeEnv(join(work, 'bin'));
    await sh('npm', ['install', tarball, '--prefer-offline', '--no-audit', '--no-fund'], { cwd: app, env: userEnv, timeout: 10 * MINUTES });
    // A CommonJS project ("type" unset): require('vmplumb') through Node's require(esm).
    cjsApp = join(work, 'cjs-app');
    mkdirSync(cjsApp);
    writeFileSync(join(cjsApp, 'package.json'), JSON.stringify({ name: 'vmplumb-cjs-user', version: '1.0.0', private: true }));
    await sh('npm', ['install', tarball, '--prefer-offline', '--no-audit', '--no-fund'], { cwd: cjsApp, env: userEnv, timeout: 10 * MINUTES });
  }, 30 * MINUTES);

  afterAll(() => {
    if (work) rmSync(work, { recursive: true, force: true });
  });

  it('ships the N-API prebuild, the compiled library and vmplumb/testing, not the tests or the benchmarks', () => {
    expect(entries.filter((p) => /^prebuilds\/linux-x64\/[^/]+\.node$/u.test(p))).toHaveLength(1);
    expect(entries).toEqual(
      expect.arrayContaining([
        'dist/lib/index.js',
        'dist/lib/index.d.ts',
        'dist/lib/native.js',
        'dist/testing/index.js',
        'package.json',
        'README.md',
        'LICENSE',
        'docs/ARCHITECTURE.md',
      ]),
    );
    expect(entries.filter((p) => /^(test|bench|build|node_modules|testing)\//u.test(p))).toEqual([]);
    expect(tarball).toMatch(/vmplumb-\d+\.\d+\.\d+\.tgz$/u);
  });

  it('refuses to pack without the prebuild (prepack)', () => {
    expect(packWithoutPrebuild).toMatch(/refusing to pack without the prebuild: no prebuilds\/linux-x64\/\*\.node/u);
  });

  it('ships its license and source maps that carry their sources', async () => {
    expect(entries).toContain('LICENSE');
    const maps = entries.filter((p) => p.endsWith('.js.map'));
    expect(maps).toContain('dist/lib/index.js.map');
    // Every .js names its map, and the map holds the TypeScript it came from (lib/ is not shipped).
    expect(entries.filter((p) => p.startsWith('dist/') && p.endsWith('.js')).every((p) => entries.includes(`${p}.map`))).toBe(true);
    const installed = join(app, 'node_modules', 'vmplumb');
    const map = JSON.parse(readFileSync(join(installed, 'dist', 'lib', 'netlink', 'netlink.js.map'), 'utf8')) as {
      sources: string[];
      sourcesContent?: string[];
    };
    expect(map.sources).toEqual(['../../../lib/netlink/netlink.ts']);
    expect(map.sourcesContent?.[0]).toContain('export class Netlink');
  });

  it('passes publint and are-the-types-wrong (require(esm) is the CommonJS path)', async () => {
    const bin = join(src, 'node_modules', '.bin');
    await sh(join(bin, 'publint'), ['run', tarball, '--strict']);
    // cjs-resolves-to-esm is the point: Node >= 20.19 require()s the ES module (tested below),
    // and TypeScript >= 5.8 with "module": "nodenext" types it. Profile node16: engines say
    // Node >= 20.19, so the pre-exports node10 resolution (no subpaths such as vmplumb/testing) is moot.
    await sh(join(bin, 'attw'), [tarball, '--profile', 'node16', '--ignore-rules', 'cjs-resolves-to-esm', '--format', 'ascii']);
  });

  it('loads from CommonJS with require(), types included', async () => {
    const script = `
      const m = require('vmplumb');
      console.log(JSON.stringify({ kinds: ['Netlink', 'VxlanNetwork', 'RouterAdvertiser', 'NetlinkError'].map((n) => typeof m[n]),
        group: m.vxlanGroupForId(100) }));`;
    const out = JSON.parse(await sh('node', ['-e', script], { cwd: cjsApp, env: userEnv })) as { kinds: string[]; group: string };
    expect(out).toEqual({ kinds: ['function', 'function', 'function', 'function'], group: 'ff05::100' });
    // A CommonJS TypeScript consumer type-checks against the shipped declarations.
    writeFileSync(join(cjsApp, 'index.cts'), `import vmplumb = require('vmplumb');\nconst group: string = vmplumb.vxlanGroupForId(100);\nexport = group;\n`);
    // Like any Node TypeScript project it has @types/node (taken from this repository's install).
    writeFileSync(
      join(cjsApp, 'tsconfig.json'),
      JSON.stringify({
        compilerOptions: {
          module: 'nodenext',
          moduleResolution: 'nodenext',
          strict: true,
          noEmit: true,
          typeRoots: [join(src, 'node_modules', '@types')],
          types: ['node'],
          skipLibCheck: false,
          lib: ['ES2022', 'ESNext.Disposable'],
        },
        files: ['index.cts'],
      }),
    );
    await sh(process.execPath, [join(src, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', cjsApp]);
  });

  it('installs where there is no compiler, and compiles nothing', async () => {
    await expect(sh('sh', ['-c', 'command -v gcc || command -v cc || command -v g++ || command -v make'], { env: userEnv })).rejects.toThrow();
    const installed = join(app, 'node_modules', 'vmplumb');
    expect(existsSync(join(installed, 'build'))).toBe(false);
    expect(readdirSync(join(installed, 'prebuilds', 'linux-x64')).filter((f) => f.endsWith('.node'))).toHaveLength(1);
  });

  it('imports, with the public names of the design, and loads the shipped prebuild', async () => {
    const script = `
      const m = await import('vmplumb');
      const names = ['Netlink', 'NetlinkError', 'openTap', 'Qemu', 'RouterAdvertiser', 'parseRadvdConf',
        'VxlanNetwork', 'eui64Address', 'macForVm', 'vxlanGroupForId'];
      const missing = names.filter((n) => typeof m[n] !== 'function');
      // The test rig is apart from the product: vmplumb/testing, not the root export.
      const testing = await import('vmplumb/testing');
      const rig = { rootHasGuest: 'ensureGuest' in m, testing: ['ensureGuest', 'runChurn', 'runDemo'].filter((n) => typeof testing[n] === 'function') };
      // The addon is loaded lazily by some modules: open a Netlink to be sure it is mapped.
      const nl = await m.Netlink.open();
      await nl.close();
      const maps = (await import('node:fs')).readFileSync('/proc/self/maps', 'utf8');
      const addons = [...new Set(maps.split('\\n').map((l) => l.split(/\\s+/)[5]).filter((p) => p && p.endsWith('.node')))];
      console.log(JSON.stringify({ missing, rig, group: m.vxlanGroupForId(12345),
        address: m.eui64Address('2a0a:e5c1:111:888::/64', '02:00:f0:a9:c4:4e'), addons }));`;
    const out = JSON.parse(await sh('node', ['--input-type=module', '-e', script], { cwd: app, env: userEnv })) as {
      missing: string[];
      rig: { rootHasGuest: boolean; testing: string[] };
      group: string;
      address: string;
      addons: string[];
    };
    expect(out.missing).toEqual([]);
    expect(out.rig).toEqual({ rootHasGuest: false, testing: ['ensureGuest', 'runChurn', 'runDemo'] });
    expect(out.group).toBe('ff05::1:2345');
    expect(out.address).toBe('2a0a:e5c1:111:888:0:f0ff:fea9:c44e');
    expect(out.addons).toHaveLength(1);
    expect(out.addons[0]).toMatch(new RegExp(`^${realpathSync(app)}/node_modules/vmplumb/prebuilds/linux-x64/[^/]+\\.node$`, 'u'));
  });

  describe.skipIf(skipUnlessRoot('package test (the installed addon in a namespace)'))('as root', () => {
    let ns: TestNetns;
    afterAll(() => ns?.cleanup());

    it('makes links the kernel shows, through the installed prebuild', async () => {
      ns = new TestNetns('vmpbench');
      const script = `
        const { Netlink } = await import('vmplumb');
        const nl = await Netlink.open({ netns: process.argv[1] });
        try {
          await nl.createBridge({ name: 'vmpbr0', up: true });
          console.log(JSON.stringify((await nl.listLinks()).map((l) => [l.name, l.kind ?? null, l.up])));
        } finally {
          await nl.close();
        }`;
      const links = JSON.parse(await sh('node', ['--input-type=module', '-e', script, ns.name], { cwd: app, env: userEnv })) as [
        string,
        string | null,
        boolean,
      ][];
      expect(links).toEqual(
        expect.arrayContaining([
          ['lo', null, true],
          ['vmpbr0', 'bridge', true],
        ]),
      );
      const [shown] = ns.ipJson<{ ifname: string; flags: string[]; linkinfo: { info_kind: string } }[]>('-d', 'link', 'show', 'dev', 'vmpbr0');
      expect(shown?.linkinfo.info_kind).toBe('bridge');
      expect(shown?.flags).toContain('UP');
    });
  });
});
