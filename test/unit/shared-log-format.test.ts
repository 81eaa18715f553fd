// VIGIE_LOG_FORMAT=text: one readable line per event (pino-pretty), secrets still masked, levels named.
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { afterEach, describe, expect, it } from 'vitest';
import { createLogger } from '../../shared/log.ts';
import { formatLogLine, logFormat } from '../../shared/log-format.ts';

const ROOT = join(import.meta.dirname, '..', '..');
const saved = process.env['VIGIE_LOG_FORMAT'];
afterEach(() => {
  if (saved === undefined) delete process.env['VIGIE_LOG_FORMAT'];
  else process.env['VIGIE_LOG_FORMAT'] = saved;
});

function capture(): { stream: Writable; lines: string[] } {
  const lines: string[] = [];
  const stream = new Writable({
    write(chunk, _enc, done) {
      lines.push(...String(chunk).split('\n').filter(Boolean));
      done();
    },
  });
  return { stream, lines };
}

describe('text log format', () => {
  it('writes one line per event: time, level, name, message, then the fields', () => {
    process.env['VIGIE_LOG_FORMAT'] = 'text';
    const { stream, lines } = capture();
    const log = createLogger('collector', 'info', stream);
    log.info({ uai: '0690001B', from: 'online', to: 'offline', reason: 'will' }, 'school 0690001B offline');
    log.warn({ note: 'two words', n: 3, nested: { a: 1 } }, 'careful');
    log.debug('not shown at info');
    expect(lines).toHaveLength(2);
    expect(lines[0]).toMatch(
      /^\[\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z\] INFO \(collector\): school 0690001B offline \{"uai":"0690001B","from":"online","to":"offline","reason":"will"\}$/,
    );
    expect(lines[1]).toMatch(/ WARN \(collector\): careful \{"note":"two words","n":3,"nested":\{"a":1\}\}$/);
  });

  it('masks secrets as the JSON format does', () => {
    process.env['VIGIE_LOG_FORMAT'] = 'text';
    const { stream, lines } = capture();
    createLogger('agent', 'info', stream).info(
      { password: 'hunter2', url: 'mqtts://user:hunter2@broker:8883' },
      'connecting',
    );
    expect(lines.join('\n')).not.toContain('hunter2');
  });

  it('shows an error by its message, on the same line', () => {
    const line = formatLogLine(
      JSON.stringify({
        level: 50,
        time: 0,
        name: 'x',
        msg: 'failed',
        err: { type: 'Error', message: 'boom now', stack: 'Error: boom\n at y' },
      }),
    );
    expect(line).toBe('[1970-01-01T00:00:00.000Z] ERROR (x): failed {"err":{"message":"boom now"}}\n');
  });

  it('keeps an error logged alone, and a string err, on its one line', () => {
    process.env['VIGIE_LOG_FORMAT'] = 'text';
    const { stream, lines } = capture();
    const log = createLogger('x', 'info', stream);
    log.error(new Error('direct failure'));
    log.warn({ err: 'ECONNREFUSED 127.0.0.1:1883' }, 'MQTT error');
    expect(lines).toHaveLength(2);
    expect(lines[0]).toMatch(/ ERROR \(x\): direct failure \{"err":\{"message":"direct failure"\}\}$/);
    expect(lines[1]).toMatch(/ WARN \(x\): MQTT error \{"err":"ECONNREFUSED 127.0.0.1:1883"\}$/);
  });

  it('loses no line when the process exits right after logging (formatted in the same thread)', () => {
    const run = spawnSync(
      process.execPath,
      [
        '--import',
        'tsx',
        '--input-type=module',
        '-e',
        "const { createLogger } = await import('./shared/log.ts'); createLogger('x').fatal({ code: 2 }, 'cannot start'); process.exit(2);",
      ],
      { cwd: ROOT, env: { ...process.env, VIGIE_LOG_FORMAT: 'text' }, encoding: 'utf8' },
    );
    expect(run.status, run.stderr).toBe(2);
    expect(run.stdout).toMatch(/^\[\S+Z\] FATAL \(x\): cannot start \{"code":2\}\n$/);
  });

  it('stays JSON by default and refuses an unknown format by name', () => {
    delete process.env['VIGIE_LOG_FORMAT'];
    const { stream, lines } = capture();
    createLogger('x', 'info', stream).info('hello');
    expect(JSON.parse(lines[0]!)).toMatchObject({ msg: 'hello', name: 'x' });
    expect(logFormat('logfmt')).toBe('text');
    expect(() => logFormat('yaml')).toThrow(/VIGIE_LOG_FORMAT must be json or text, got "yaml"/);
  });
});
