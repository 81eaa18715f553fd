import { Writable } from 'node:stream';
import { Ajv } from 'ajv';
import { describe, expect, it } from 'vitest';
import { AlertsConfig } from '../../collector/alerts/config.ts';
import { PresenceConfig } from '../../collector/presence/config.ts';
import { startPresenceAndAlerts } from '../../collector/presence-and-alerts.ts';
import { createLogger } from '../../shared/log.ts';
import type { School } from '../../shared/registry.ts';
import { parseUai } from '../../shared/uai.ts';
import { addVigieFormats } from '../../shared/validate.ts';

const defaults = <T>(schema: object, value: object): T => {
  const copy = structuredClone(value);
  addVigieFormats(new Ajv({ useDefaults: true, strict: false })).validate(schema, copy);
  return copy as T;
};

const school = (uai: string, hours: string): School => ({
  uai: parseUai(uai),
  name: `École ${uai}`,
  commune: 'Bron',
  lat: 45.7,
  lon: 4.9,
  isp: 'Orange',
  contractedDownMbps: 100,
  contractedUpMbps: 20,
  hours,
});

describe('presence and alerts set-up', () => {
  it('says which schools name an hours profile the config lacks, and knows the Wednesday-morning week', async () => {
    const lines: string[] = [];
    const capture = new Writable({
      write(chunk, _enc, done) {
        lines.push(String(chunk));
        done();
      },
    });
    const pa = startPresenceAndAlerts({
      presence: defaults(PresenceConfig, { rebuildFromInflux: false }),
      alerts: defaults(AlertsConfig, {}),
      schools: new Map([
        ['0690001B', school('0690001B', 'school')],
        ['0690402M', school('0690402M', 'school-wednesday')],
        ['0690638U', school('0690638U', 'half-days')],
      ]),
      points: { write() {} },
      channels: [],
      log: createLogger('test', 'info', capture),
    });
    await pa.stop();
    const warnings = lines.map((l) => JSON.parse(l)).filter((l) => l.level === 40);
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toMatchObject({ profile: 'half-days', schools: 1, uais: ['0690638U'] });
    expect(warnings[0].msg).toContain('count as always open');
  });
});
