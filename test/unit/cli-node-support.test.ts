import { describe, expect, it } from 'vitest';
import { nodeRuntimeWarning, showsRuntimeWarning } from '../../cli/node-support.ts';

const at = (day: string) => new Date(`${day}T12:00:00Z`);

describe('nodeRuntimeWarning', () => {
  it('warns on Node 20 after its end of life, in English and French, naming the line to use', () => {
    const w = nodeRuntimeWarning('v20.20.2', at('2026-11-30'));
    expect(w).toContain('Node.js v20.20.2 reached its end of life on 2026-04-30: no more security fixes');
    expect(w).toContain('Run Vigie on Node.js 24');
    expect(w).toContain('Node.js v20.20.2 est en fin de vie depuis le 2026-04-30');
    expect(w?.endsWith('\n')).toBe(true);
  });

  it('stays quiet on the maintained lines 22 and 24, and on a line newer than the table', () => {
    expect(nodeRuntimeWarning('v22.23.5', at('2026-11-30'))).toBeNull();
    expect(nodeRuntimeWarning('v24.22.3', at('2026-11-30'))).toBeNull();
    expect(nodeRuntimeWarning('v30.0.0', at('2026-11-30'))).toBeNull();
  });

  it('starts warning on the day a line ends (UTC): Node 22 on 2027-04-30', () => {
    expect(nodeRuntimeWarning('v22.23.5', new Date('2027-04-29T23:59:59Z'))).toBeNull();
    expect(nodeRuntimeWarning('v22.23.5', new Date('2027-04-30T00:00:00Z'))).toContain('on 2027-04-30');
  });

  it('warns on Debian 12 nodejs (18), on odd lines past their 8 months, and on lines older than the table', () => {
    expect(nodeRuntimeWarning('v18.19.0', at('2026-11-30'))).toContain('on 2025-04-30');
    expect(nodeRuntimeWarning('v25.1.0', at('2026-11-30'))).toContain('on 2026-06-01');
    expect(nodeRuntimeWarning('v16.20.2', at('2026-11-30'))).toContain('reached its end of life: no more');
  });

  it('gives no warning for a version it cannot read', () => {
    expect(nodeRuntimeWarning('unknown', at('2026-11-30'))).toBeNull();
  });
});

describe('showsRuntimeWarning', () => {
  it('shows it at a terminal and for the agent and collector (their stderr is the journal), not to piped commands', () => {
    expect(showsRuntimeWarning(['node', 'vigie', 'config', 'check', 'x.yaml'], true)).toBe(true);
    expect(showsRuntimeWarning(['node', 'vigie', 'agent', '--config', 'x.yaml'], false)).toBe(true);
    expect(showsRuntimeWarning(['node', 'vigie', 'collector'], false)).toBe(true);
    expect(showsRuntimeWarning(['node', 'vigie', 'config', 'check', 'x.yaml'], false)).toBe(false);
  });
});
