// `vigie collector` must not load the agent (its probes pull net-snmp, systeminformation): each
// process validates its own config section. The graph is esbuild's, lazy imports included.
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';
import { describe, expect, it } from 'vitest';

const REPO = join(dirname(fileURLToPath(import.meta.url)), '../..');

/** Every source file and package `entry` loads, lazy imports included. */
async function loadedBy(entry: string): Promise<{ sources: string[]; packages: string[] }> {
  const { metafile } = await build({
    entryPoints: [join(REPO, entry)],
    absWorkingDir: REPO,
    bundle: true,
    write: false,
    metafile: true,
    platform: 'node',
    format: 'esm',
    packages: 'external',
    outdir: join(REPO, 'esbuild-out'),
    logLevel: 'silent',
  });
  const packages = Object.values(metafile.inputs).flatMap((input) =>
    input.imports.filter((i) => i.external).map((i) => i.path),
  );
  return { sources: Object.keys(metafile.inputs), packages };
}

// The `ping` package left the agent: agent/probes/echo.ts spawns the system ping itself (killable).
const AGENT_PACKAGES = ['net-snmp', 'systeminformation'];

describe('module graph', () => {
  it("the collector's entry imports nothing under agent/, nor the agent's packages", async () => {
    const { sources, packages } = await loadedBy('collector/main.ts');
    expect(sources).toContain('collector/config-file.ts');
    expect(sources.filter((f) => f.startsWith('agent/'))).toEqual([]);
    for (const name of AGENT_PACKAGES) expect(packages, name).not.toContain(name);
  });

  it('sees the agent where it is loaded: `vigie config check` composes both sections', async () => {
    const { sources, packages } = await loadedBy('cli/config-file.ts');
    expect(sources).toContain('agent/config-file.ts');
    expect(packages).toEqual(expect.arrayContaining(AGENT_PACKAGES));
  });
});
