// `vigie speedtest-token`: what the installer puts in each agent's config, verified by the collector.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Command } from 'commander';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { verifySpeedtestToken } from '../../collector/http/auth.ts';
import { printSpeedtestTokens, registerHttpCommands } from '../../collector/http/cli.ts';
import { tempDir } from '../harness/daemon.ts';

const SECRET = 'cli-secret-at-least-16';
const dir = tempDir('http-cli');
const file = join(dir, 'vigie.yaml');
writeFileSync(file, 'collector:\n  http:\n    speedtest:\n      secret: from-the-file-000000\n');

function capture() {
  const out: string[] = [];
  const err: string[] = [];
  vi.spyOn(process.stdout, 'write').mockImplementation((s) => out.push(String(s)) > 0);
  vi.spyOn(process.stderr, 'write').mockImplementation((s) => err.push(String(s)) > 0);
  return { out, err };
}
afterEach(() => {
  vi.restoreAllMocks();
  delete process.env['VIGIE_COLLECTOR__HTTP__SPEEDTEST__SECRET'];
});

describe('vigie speedtest-token', () => {
  it('is a command of the CLI', () => {
    const program = new Command();
    registerHttpCommands(program);
    expect(program.commands.map((c) => c.name())).toContain('speedtest-token');
  });

  it('prints a token per school that the collector accepts for that school only', async () => {
    process.env['VIGIE_COLLECTOR__HTTP__SPEEDTEST__SECRET'] = SECRET;
    const { out } = capture();
    expect(await printSpeedtestTokens(file, ['0690001B', '0380001V'])).toBe(0);
    const lines = out
      .join('')
      .trim()
      .split('\n')
      .map((l) => l.split('\t'));
    expect(lines.map(([uai]) => uai)).toEqual(['0690001B', '0380001V']);
    for (const [uai, token] of lines) {
      expect(verifySpeedtestToken(SECRET, [], `Bearer ${token}`)).toEqual({ ok: true, uai });
      expect(verifySpeedtestToken('from-the-file-000000', [], `Bearer ${token}`).ok).toBe(false);
    }
  });

  it('refuses a bad UAI or a config without a secret, exit 2', async () => {
    const { err } = capture();
    expect(await printSpeedtestTokens(file, ['0690001A'])).toBe(2);
    expect(err.join('')).toMatch(/wrong UAI check letter/);
    const empty = join(dir, 'empty.yaml');
    writeFileSync(empty, 'collector: {}\n');
    expect(await printSpeedtestTokens(empty, ['0690001B'])).toBe(2);
    expect(err.join('')).toMatch(/sets no collector.http.speedtest.secret/);
  });
});
