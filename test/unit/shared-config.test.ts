import Type from 'typebox';
import { describe, expect, it } from 'vitest';
import { VigieConfig } from '../../cli/config-file.ts';
import { ConfigError, parseConfigText } from '../../shared/config.ts';
import { createLogger, redactSecrets } from '../../shared/log.ts';

const Schema = Type.Object(
  {
    collector: Type.Object(
      {
        influx: Type.Object(
          {
            url: Type.String({ pattern: '^https?://' }),
            batchSize: Type.Integer({ minimum: 1, default: 5000 }),
            password: Type.Optional(Type.String()),
          },
          { additionalProperties: false },
        ),
        mode: Type.Union([Type.Literal('embedded'), Type.Literal('external')], { default: 'embedded' }),
      },
      { additionalProperties: false },
    ),
  },
  { additionalProperties: false },
);

function problems(text: string, env: NodeJS.ProcessEnv = {}) {
  try {
    parseConfigText('site.yaml', text, Schema, env);
  } catch (err) {
    expect(err).toBeInstanceOf(ConfigError);
    return (err as ConfigError).problems;
  }
  throw new Error('expected a ConfigError');
}

describe('config loading', () => {
  it('fills defaults', () => {
    const { config } = parseConfigText(
      'site.yaml',
      'collector:\n  influx:\n    url: http://db:8086\n',
      Schema,
      {},
    );
    expect(config).toEqual({
      collector: { influx: { url: 'http://db:8086', batchSize: 5000 }, mode: 'embedded' },
    });
  });

  it('names the file, the key path, what was expected and what was found', () => {
    const [p] = problems('collector:\n  influx:\n    url: http://db\n    batchSize: lots\n');
    expect(p).toEqual({ path: 'collector.influx.batchSize', expected: 'integer', found: '"lots" (string)' });
    try {
      parseConfigText('site.yaml', 'collector:\n  influx:\n    url: db\n', Schema, {});
    } catch (err) {
      expect((err as Error).message).toBe(
        'site.yaml: collector.influx.url: expected text matching ^https?://, found "db" (string)',
      );
    }
  });

  it('reports a missing required key, an unknown key (a typo) and a value out of range together', () => {
    const found = problems('collector:\n  influx:\n    batchSize: 0\n    pasword: x\n');
    expect(found).toEqual(
      expect.arrayContaining([
        { path: 'collector.influx.url', expected: 'a value (this key is required)', found: 'nothing' },
        {
          path: 'collector.influx.pasword',
          expected: 'no such key (known keys: url, batchSize, password)',
          found: 'an unknown key',
        },
        { path: 'collector.influx.batchSize', expected: 'a value that must be >= 1', found: '0 (number)' },
      ]),
    );
  });

  it('reports YAML syntax errors with line and column', () => {
    const [p] = problems('collector:\n  influx: [\n');
    expect(p?.path).toMatch(/^line \d+ column \d+$/);
    expect(p?.expected).toBe('valid YAML');
  });

  it('rejects a file that is not a mapping', () => {
    expect(problems('- a\n- b\n')).toEqual([
      { path: '(top level)', expected: 'a mapping of keys', found: 'a list of 2' },
    ]);
  });

  it('applies VIGIE_* environment overrides over the file, typed like YAML, matching camelCase keys', () => {
    const env = {
      VIGIE_COLLECTOR__INFLUX__URL: 'http://other:8086',
      VIGIE_COLLECTOR__INFLUX__BATCHSIZE: '250',
      VIGIE_UNRELATED: 'x',
    };
    const loaded = parseConfigText(
      'site.yaml',
      'collector:\n  influx:\n    url: http://db:8086\n',
      Schema,
      env,
    );
    expect(loaded.config.collector.influx).toEqual({ url: 'http://other:8086', batchSize: 250 });
    expect(loaded.overrides).toEqual([
      'VIGIE_COLLECTOR__INFLUX__URL → collector.influx.url',
      'VIGIE_COLLECTOR__INFLUX__BATCHSIZE → collector.influx.batchSize',
    ]);
  });

  it('validates what the environment set, too', () => {
    const [p] = problems('collector:\n  influx:\n    url: http://db:8086\n', {
      VIGIE_COLLECTOR__MODE: 'cloud',
    });
    expect(p).toMatchObject({ path: 'collector.mode', found: '"cloud" (string)' });
  });

  it('finds every mistake in the broken example, with key paths', async () => {
    const { readFileSync } = await import('node:fs');
    const text = readFileSync(new URL('../fixtures/broken.yaml', import.meta.url), 'utf8');
    let error: ConfigError | undefined;
    try {
      parseConfigText('broken.yaml', text, VigieConfig, {});
    } catch (err) {
      error = err as ConfigError;
    }
    const paths = error?.problems.map((p) => p.path) ?? [];
    expect(paths).toEqual(
      expect.arrayContaining([
        'agent.uai',
        'agent.mqtt.url',
        'agent.mqtt.keepaliveS',
        'agent.spool.maxBytes',
        'collector.influx.databse',
      ]),
    );
  });
});

describe('secrets', () => {
  it('masks secrets in printed configs, URLs included', () => {
    const masked = redactSecrets({
      mqtt: { url: 'mqtts://school:hunter2@broker:8883', password: 'hunter2', username: 'school' },
      list: [{ token: 't' }],
    });
    expect(JSON.stringify(masked)).not.toContain('hunter2');
    expect(masked).toEqual({
      mqtt: { url: 'mqtts://school:[redacted]@broker:8883', password: '[redacted]', username: 'school' },
      list: [{ token: '[redacted]' }],
    });
  });

  it('never writes a password to a log line', () => {
    const lines: string[] = [];
    const log = createLogger('test', 'info', { write: (s: string) => lines.push(s) });
    log.info({ config: { mqtt: { password: 'hunter2', url: 'mqtt://x' } }, token: 'abc' }, 'starting');
    expect(lines.join('')).not.toMatch(/hunter2|abc/);
    expect(lines.join('')).toContain('[redacted]');
  });
});
