import Type from 'typebox';
import { describe, expect, it } from 'vitest';
import { checkVigieConfig, VigieConfig } from '../../cli/config-file.ts';
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

/** The ConfigError a text raises (with the Vigie schema and its cross-key check by default). */
function configError(text: string, env: NodeJS.ProcessEnv = {}, schema: typeof VigieConfig = VigieConfig) {
  try {
    parseConfigText('vigie.yaml', text, schema, env, checkVigieConfig);
  } catch (err) {
    expect(err).toBeInstanceOf(ConfigError);
    return err as ConfigError;
  }
  throw new Error('expected a ConfigError');
}

describe('files people actually write', () => {
  it('refuses an empty file, and one with comments only, instead of calling it valid', () => {
    for (const text of ['', '\n\n', '# agent:\n#   uai: "0690001B"\n']) {
      expect(configError(text).problems).toEqual([
        {
          path: '(file)',
          expected: 'a mapping of keys',
          found: 'an empty file (nothing but blanks or comments)',
        },
      ]);
    }
  });

  it('refuses a YAML alias bomb (billion laughs) as a config error naming the file', () => {
    const bomb = ['a: &a [x, x, x, x, x, x, x, x, x]']
      .concat(
        'bcdefg'.split('').map((k, i) => `${k}: &${k} [${Array(9).fill(`*${'abcdefg'[i]}`).join(', ')}]`),
      )
      .join('\n');
    const err = configError(bomb);
    expect(err.message).toMatch(/^vigie\.yaml: \(file\): expected YAML whose aliases/);
    expect(err.message).toContain('billion laughs');
  });

  it('says "not a UAI" with the probable fix when a spreadsheet dropped the leading zero', () => {
    const err = configError('agent:\n  uai: 690001B\n');
    expect(err.problems).toHaveLength(1); // one line for the key, not the regex and the check
    expect(err.message).toContain('a spreadsheet probably dropped its leading zero; write "0690001B"');
  });
});

describe('environment overrides', () => {
  const file = 'collector:\n  influx:\n    url: http://db:8086\n';

  it('blame the variable, not the file, for a bad value they set', () => {
    const err = configError(file, { VIGIE_COLLECTOR__INFLUX__BATCHPOINTS: 'lots' });
    expect(err.message).toBe(
      'environment variable VIGIE_COLLECTOR__INFLUX__BATCHPOINTS: collector.influx.batchPoints: expected integer, found "lots" (string)',
    );
    const secret = configError(file, { VIGIE_COLLECTOR__HTTP__AUTH__ADMINTOKEN: 'short' });
    expect(secret.message).toMatch(/^environment variable VIGIE_COLLECTOR__HTTP__AUTH__ADMINTOKEN: /);
    expect(secret.message).not.toContain('short');
  });

  it('warn about a misspelt VIGIE_ variable, naming the nearest known one, and leave the rest alone', () => {
    const { warnings, config } = parseConfigText('vigie.yaml', file, VigieConfig, {
      VIGIE_COLLECTOR__INFLUX__PASWORD: 'x',
      VIGIE_COLLECTOR_INFLUX_URL: 'http://other:8086',
      VIGIE_COLECTOR__MQTT__URL: 'mqtts://b',
      VIGIE_LOG_LEVEL: 'debug',
      VIGIE_SITE_DIR: '/srv/site',
    });
    expect(warnings).toEqual([
      'environment variable VIGIE_COLLECTOR__INFLUX__PASWORD names no config key and is ignored; did you mean VIGIE_COLLECTOR__INFLUX__PASSWORD?',
      'environment variable VIGIE_COLLECTOR_INFLUX_URL names no config key and is ignored; did you mean VIGIE_COLLECTOR__INFLUX__URL? (keys are separated by two underscores)',
      'environment variable VIGIE_COLECTOR__MQTT__URL names no config key and is ignored; did you mean VIGIE_COLLECTOR__MQTT__URL?',
    ]);
    // A misspelt leaf creates no parent: no half-made `mqtt:` section to fail on.
    expect(config.collector?.mqtt).toBeUndefined();
    expect(config.collector?.influx.url).toBe('http://db:8086');
  });

  it("do not warn the agent about the collector's variables", () => {
    const AgentOnly = Type.Object(
      { agent: Type.Object({ uai: Type.String() }, { additionalProperties: false }) },
      { additionalProperties: true },
    );
    const loaded = parseConfigText('a.yaml', 'agent:\n  uai: "0690001B"\n', AgentOnly, {
      VIGIE_COLLECTOR__HTTP__SPEEDTEST__SECRET: 'x',
      VIGIE_AGNET__UAI: '0690001B',
    });
    expect(loaded.warnings).toEqual([
      'environment variable VIGIE_AGNET__UAI names no config key and is ignored; did you mean VIGIE_AGENT__UAI?',
    ]);
  });

  it('are named in the error when the config is refused, as a likely cause', () => {
    const err = configError('agent:\n  uai: "0690001B"\n  mqtt: {}\n', {
      VIGIE_AGENT__MQTT__UR: 'mqtts://b',
    });
    expect(err.message).toContain('agent.mqtt.url: expected a value (this key is required)');
    expect(err.message).toContain('warning: environment variable VIGIE_AGENT__MQTT__UR names no config key');
  });
});

describe('broker passwords over plaintext MQTT', () => {
  const agent = (mqtt: string) => `agent:\n  uai: "0690001B"\n  mqtt:\n${mqtt}`;

  it('are refused for another host, the password in a field or in the URL, agent and collector alike', () => {
    const cases = [
      agent('    url: mqtt://broker.example.org:1883\n    username: "0690001B"\n    password: hunter2\n'),
      agent('    url: mqtt://0690001B:hunter2@broker.example.org\n'),
      agent('    url: ws://198.18.0.10:8080\n    password: hunter2\n'),
      'collector:\n  mqtt:\n    url: tcp://broker.lan:1883\n    password: hunter2\n',
    ];
    for (const text of cases) {
      const err = configError(text);
      expect(err.problems).toHaveLength(1);
      expect(err.problems[0]!.path).toMatch(/^(agent|collector)\.mqtt\.url$/);
      expect(err.message).toContain('would cross the network in clear');
      expect(err.message).toContain('allowPlaintextPassword: true');
      expect(err.message).not.toContain('hunter2');
    }
  });

  it('pass over TLS, to this machine, or when allowed, then with a warning', () => {
    const ok = (text: string) => parseConfigText('vigie.yaml', text, VigieConfig, {}, checkVigieConfig);
    expect(ok(agent('    url: mqtts://broker.example.org:8883\n    password: hunter2\n')).warnings).toEqual(
      [],
    );
    expect(ok(agent('    url: mqtt://127.0.0.1:1883\n    password: hunter2\n')).warnings).toEqual([]);
    expect(ok(agent('    url: mqtt://localhost:1883\n    password: hunter2\n')).warnings).toEqual([]);
    expect(ok(agent('    url: mqtt://broker.lan:1883\n')).warnings).toEqual([]); // no password
    const allowed = ok(
      agent('    url: mqtt://broker.lan:1883\n    password: hunter2\n    allowPlaintextPassword: true\n'),
    );
    expect(allowed.warnings).toEqual([
      'agent.mqtt: the broker password goes to broker.lan:1883 in clear over mqtt:// (allowPlaintextPassword: true); use mqtts:// unless this network is trusted',
    ]);
  });
});

describe('secret values in config errors', () => {
  it('are described, never shown: wrong type, too short, in lists, from new secret keys too', () => {
    const err = configError(
      [
        'agent:',
        '  uai: "0690001B"',
        '  mqtt:',
        '    url: mqtts://broker:8883',
        '    password: 918273645',
        'collector:',
        '  influx:',
        '    password: [pw-in-a-list]',
        '  http:',
        '    auth:',
        '      adminToken: adm1n',
        '      readTokens: [r3ad]',
        '    speedtest:',
        '      secret: sp33d',
      ].join('\n'),
    );
    for (const secret of ['918273645', 'pw-in-a-list', 'adm1n', 'r3ad', 'sp33d'])
      expect(err.message).not.toContain(secret);
    expect(err.problems).toEqual(
      expect.arrayContaining([
        { path: 'agent.mqtt.password', expected: 'string', found: 'a number (hidden)' },
        { path: 'collector.influx.password', expected: 'string', found: 'a list of 1 (hidden)' },
        expect.objectContaining({
          path: 'collector.http.auth.adminToken',
          found: 'a string of 5 characters (hidden)',
        }),
        expect.objectContaining({
          path: 'collector.http.auth.readTokens[0]',
          found: 'a string of 4 characters (hidden)',
        }),
        expect.objectContaining({
          path: 'collector.http.speedtest.secret',
          found: 'a string of 5 characters (hidden)',
        }),
      ]),
    );
    // A secret key nobody listed: the rule is the name.
    const Custom = Type.Object({ webhook: Type.Object({ apiKey: Type.String({ minLength: 20 }) }) });
    expect(() => parseConfigText('c.yaml', 'webhook:\n  apiKey: k3y-value\n', Custom, {})).toThrow(
      'c.yaml: webhook.apiKey: expected a value that must NOT have fewer than 20 characters, found a string of 9 characters (hidden)',
    );
  });

  it("do not show a URL's password, even in a value too long to show whole", () => {
    const long = `htps://school:hunter2@${'broker.'.repeat(12)}example.org:8883`;
    const err = configError(`agent:\n  uai: "0690001B"\n  mqtt:\n    url: ${long}\n`);
    expect(err.problems[0]!.path).toBe('agent.mqtt.url');
    expect(err.message).not.toContain('hunter2');
    expect(err.message).toContain('htps://school:[redacted]@broker.');
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
