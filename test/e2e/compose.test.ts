import { execFile } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { ensureDevIssuer } from '../../scripts/lib/dev-issuer.js';
import { COMPOSE_PATHS, composeLayout, DEFAULT_PORTS, REPO_ROOT, writeStackConfigs } from '../../scripts/lib/stack-config.js';
import { startAdminServer } from '../../src/admin/admin-server.js';
import { ENVOY_VERSION } from '../helpers/stack-envoy.js';
import { createPki } from '../helpers/stack-harness.js';

// Static checks that keep docker-compose.yml and the Dockerfile aligned with what the e2e tests run (same
// template, same renderer, same ports, files that exist). compose-stack.test.ts runs the stack on an engine.
interface Service {
  image?: string;
  build?: { context?: string; target?: string; args?: Record<string, string> };
  entrypoint?: string[];
  command?: string[];
  volumes?: string[];
  ports?: string[];
  expose?: string[];
  healthcheck?: { test?: string[] };
  depends_on?: Record<string, { condition?: string }>;
}
const compose = parse(readFileSync(path.join(REPO_ROOT, 'docker-compose.yml'), 'utf8'), { merge: true }) as {
  services: Record<string, Service>;
};
const services = compose.services;
const dockerfile = readFileSync(path.join(REPO_ROOT, 'Dockerfile'), 'utf8');

let stackDir: string;
beforeAll(async () => {
  // Render the compose stack for real (file names only matter here; Envoy validates the content
  // in envoy-validate.test.ts).
  stackDir = await mkdtemp(path.join(tmpdir(), 'callguard-compose-'));
  const pkiDir = path.join(stackDir, 'pki');
  createPki(pkiDir);
  await ensureDevIssuer(pkiDir);
  await writeStackConfigs(stackDir, composeLayout({ pkiDir }));
});
afterAll(async () => {
  await rm(stackDir, { recursive: true, force: true });
});

describe('docker-compose.yml', () => {
  it('has the four services', () => {
    expect(Object.keys(services).sort()).toEqual(['callguard', 'envoy', 'function', 'pki']);
  });

  it('pins Envoy to the version the tests run (the default of ENVOY_IMAGE)', () => {
    // biome-ignore lint/suspicious/noTemplateCurlyInString: compose's variable syntax, not a template
    expect(services['envoy']?.image).toBe('${ENVOY_IMAGE:-envoyproxy/envoy:v1.40.0}');
    if (ENVOY_VERSION !== undefined) expect(ENVOY_VERSION).toContain('/1.40.0/');
  });

  it('builds callguard (target runtime), function and pki (target tools) from the repo Dockerfile', () => {
    for (const [name, target] of [
      ['callguard', 'runtime'],
      ['function', 'tools'],
      ['pki', 'tools'],
    ] as const) {
      // biome-ignore lint/suspicious/noTemplateCurlyInString: compose's variable syntax, not a template
      expect(services[name]?.build).toMatchObject({ context: '.', target, args: { NODE_IMAGE: '${NODE_IMAGE:-node:20-slim}' } });
      expect(dockerfile).toMatch(new RegExp(`^FROM \\S+ AS ${target}$`, 'm'));
    }
  });

  it('every bind-mounted source exists; every /stack path it names is one the renderer writes', () => {
    for (const [name, service] of Object.entries(services)) {
      for (const volume of service.volumes ?? []) {
        const source = volume.split(':')[0] ?? '';
        if (source.startsWith('.')) expect(existsSync(path.join(REPO_ROOT, source)), `${name}: ${volume}`).toBe(true);
      }
      for (const arg of [...(service.entrypoint ?? []), ...(service.command ?? [])]) {
        if (arg.startsWith(`${COMPOSE_PATHS.stackDir}/`)) {
          const rel = path.relative(COMPOSE_PATHS.stackDir, arg);
          expect(existsSync(path.join(stackDir, rel)), `${name}: ${arg}`).toBe(true);
        } else if (/\.(ts|sh)$/.test(arg)) {
          expect(existsSync(path.join(REPO_ROOT, arg)), `${name}: ${arg}`).toBe(true);
        }
      }
    }
  });

  it('uses the local stack ports inside the network', () => {
    expect(services['envoy']?.ports).toContain(`${DEFAULT_PORTS.envoy}:${DEFAULT_PORTS.envoy}`);
    expect(services['callguard']?.expose).toEqual([String(DEFAULT_PORTS.callguard)]);
    expect(services['function']?.command).toEqual(expect.arrayContaining(['--port', String(DEFAULT_PORTS.function)]));
    const layout = composeLayout();
    expect([layout.callguard.host, layout.function.host]).toEqual(['callguard', 'function']);
  });

  it("does not publish Envoy's admin port (it binds 127.0.0.1 inside the container)", () => {
    expect(services['envoy']?.ports).toEqual([`${DEFAULT_PORTS.envoy}:${DEFAULT_PORTS.envoy}`]);
    expect(composeLayout().envoy.adminHost).toBe('127.0.0.1');
  });

  it('starts the function with mTLS: the dev CA, so only Envoy can call it', () => {
    expect(services['function']?.command).toEqual(expect.arrayContaining(['--ca', `${COMPOSE_PATHS.pkiDir}/ca.crt`]));
  });
});

describe("callguard's healthcheck: readiness gates Envoy", () => {
  const probe = services['callguard']?.healthcheck?.test ?? [];
  const script = probe[3] ?? '';
  /** Runs the healthcheck's `node -e` script as Docker would, its URL pointed at `address`: the exit code. */
  const runProbe = (address: string) =>
    new Promise<number>((resolve) => {
      const child = execFile(process.execPath, ['-e', script.replace(composeLayout().callguard.adminListen, address)], () => resolve(child.exitCode ?? -1));
    });

  it('GETs /readyz on the admin listener the compose config gives callguard (node: the image has no curl)', () => {
    expect(probe.slice(0, 3)).toEqual(['CMD', 'node', '-e']);
    expect(script).toContain(`http://${composeLayout().callguard.adminListen}/readyz`);
  });

  it('Envoy starts only once callguard is healthy', () => {
    expect(services['envoy']?.depends_on?.['callguard']?.condition).toBe('service_healthy');
  });

  it.each([
    { name: 'ready', ready: true, exit: 0 },
    { name: 'not ready (503)', ready: false, exit: 1 },
  ])('the probe exits $exit when callguard is $name', async ({ ready, exit }) => {
    const admin = await startAdminServer('127.0.0.1:0', {
      readiness: () => ({ ready, notReady: ready ? [] : [{ check: 'keys', source: 'corp', problem: 'signing keys not fetched yet' }] }),
      metrics: async () => ({ contentType: 'text/plain', body: '' }),
    });
    try {
      expect(await runProbe(admin.address)).toBe(exit);
    } finally {
      await admin.close();
    }
  });

  it('the probe exits 1 when nothing listens', async () => {
    const admin = await startAdminServer('127.0.0.1:0', {
      readiness: () => ({ ready: true, notReady: [] }),
      metrics: async () => ({ contentType: 'text/plain', body: '' }),
    });
    await admin.close();
    expect(await runProbe(admin.address)).toBe(1);
  });
});

describe('Dockerfile', () => {
  it('copies only paths that exist and runs the compiled CLI', () => {
    const copies = [...dockerfile.matchAll(/^COPY\s+(?!--from)(.+)\s+\S+$/gm)].flatMap((m) => (m[1] ?? '').split(/\s+/));
    expect(copies.length).toBeGreaterThan(0);
    for (const source of copies) expect(existsSync(path.join(REPO_ROOT, source)), source).toBe(true);
    expect(dockerfile).toMatch(/^ARG NODE_IMAGE=node:20-slim$/m);
    expect(dockerfile).toContain('ENTRYPOINT ["node", "dist/cli/main.js"]');
    expect(existsSync(path.join(REPO_ROOT, 'src/cli/main.ts'))).toBe(true);
  });

  it('keeps keys, dependencies and build output out of the build context', () => {
    const ignored = readFileSync(path.join(REPO_ROOT, '.dockerignore'), 'utf8').split('\n');
    expect(ignored).toEqual(expect.arrayContaining(['node_modules', '.dev-pki', 'src/gen']));
  });
});
