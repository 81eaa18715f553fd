// Agent config names that become InfluxDB tags are labels (issue 14 §4): `serveur ENT\` is refused
// at config check and agent start, its key named, instead of every batch being lost.
import { describe, expect, it } from 'vitest';
import { AgentFile } from '../../agent/config.ts';
import { checkAgentFile } from '../../agent/config-file.ts';
import { normaliseSampleLabels, partitionSamples } from '../../agent/sample-check.ts';
import { ConfigError, parseConfigText } from '../../shared/config.ts';
import type { Sample } from '../../shared/schemas.ts';

const agent = (probes: string) =>
  `agent:\n  uai: 0690001B\n  id: box-1\n  mqtt:\n    url: mqtts://broker.example:8883\n  probes:\n${probes}`;

function refusal(text: string): string {
  try {
    parseConfigText('vigie.yaml', text, AgentFile, {}, checkAgentFile);
  } catch (err) {
    expect(err).toBeInstanceOf(ConfigError);
    return (err as Error).message;
  }
  throw new Error('expected a ConfigError');
}

describe('agent config labels', () => {
  it('refuses a ping target named `serveur ENT\\`, naming the key and what to write', () => {
    const message = refusal(
      agent('    ping:\n      targets:\n        - {host: 10.0.0.5, name: "serveur ENT\\\\", role: ent}\n'),
    );
    expect(message).toContain('agent.probes.ping.targets[0].name');
    expect(message).toContain('ends with a backslash');
    expect(message).toContain('write "serveur ENT"');
  });

  it.each([
    ['    dns:\n      queries:\n        - {name: "ent.example\\t"}\n', 'agent.probes.dns.queries[0].name'],
    [
      '    wifi:\n      accessPoints:\n        - {name: "AP\\nhall", host: 10.0.0.9}\n',
      'agent.probes.wifi.accessPoints[0].name',
    ],
    [
      '    http:\n      targets:\n        - {url: "https://ent.example/\\\\"}\n',
      'agent.probes.http.targets[0].url',
    ],
    ['    wan:\n      interfaces: ["eth0\\\\"]\n', 'agent.probes.wan.interfaces[0]'],
  ])('refuses other label keys: %j', (probes, key) => {
    expect(refusal(agent(probes))).toContain(key);
  });

  it('refuses an access point named `box:…` (the box’s own radio) and two access points of one name', () => {
    const boxName = refusal(
      agent('    wifi:\n      accessPoints:\n        - {name: "box:salle 1", host: 10.0.0.9}\n'),
    );
    expect(boxName).toContain('agent.probes.wifi.accessPoints[0].name');
    expect(boxName).toContain('not starting with "box:"');
    expect(boxName).toContain('write "salle 1"');
    // Whatever its case: the report's filter is case-sensitive, the refusal is not.
    const upper = refusal(
      agent('    wifi:\n      accessPoints:\n        - {name: "BOX:préau", host: 10.0.0.9}\n'),
    );
    expect(upper).toContain('agent.probes.wifi.accessPoints[0].name');
    expect(upper).toContain('write "préau"');
    const twice = refusal(
      agent(
        '    wifi:\n      accessPoints:\n        - {name: "AP préau", host: 10.0.0.9}\n        - {name: "AP hall", host: 10.0.0.10}\n        - {name: "AP préau", host: 10.0.0.11}\n',
      ),
    );
    expect(twice).toContain('agent.probes.wifi.accessPoints[2].name');
    expect(twice).toContain('accessPoints[0] is already "AP préau"');
    expect(twice).not.toContain('accessPoints[1].name');
  });

  it('accepts ordinary names', () => {
    expect(() =>
      parseConfigText(
        'vigie.yaml',
        agent(
          '    ping:\n      targets:\n        - {host: 10.0.0.5, name: "serveur ENT, salle 2", role: ent}\n',
        ),
        AgentFile,
        {},
        checkAgentFile,
      ),
    ).not.toThrow();
  });
});

describe('probe results', () => {
  it('normalises a label read from a device, and says so', () => {
    const sample = { probe: 'wifi', t: 1, ap: 'box:wlan0\\', up: true, reachable: true } as Sample;
    const { sample: out, changed } = normaliseSampleLabels(sample);
    expect((out as { ap: string }).ap).toBe('box:wlan0');
    expect(changed).toEqual(['ap: "box:wlan0\\\\" → "box:wlan0"']);
    const { valid, problems, relabelled } = partitionSamples([sample]);
    expect(problems).toEqual([]);
    expect(valid).toEqual([out]);
    expect(relabelled).toHaveLength(1);
  });
});
