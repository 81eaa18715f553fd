// `vigie agent --once`: every configured probe runs one round, and the installer on site reads the
// result as a table (or one JSON document). Nothing is spooled or published.
import type { Logger } from '../shared/log.ts';
import type { ProbeKind, Sample, SampleOf } from '../shared/schemas.ts';
import { type RoundOutcome, runRound, type ScheduledProbe } from './scheduler.ts';

export interface OnceReport {
  uai: string;
  agent: string;
  t: number;
  results: Array<{
    probe: string;
    kind: Sample['probe'];
    durationMs: number;
    failure?: RoundOutcome['failure'];
    samples: Sample[];
  }>;
}

/** Rates need two readings: a probe with nothing to say on its first round gets a second one this much later. */
export const SECOND_READING_MS = 1000;
/** Counter probes: their first round is only the baseline (some sources may already give a rate). */
const RATE_KINDS: ReadonlySet<Sample['probe']> = new Set(['wan']);

async function roundWithSecondReading(p: ScheduledProbe, log: Logger): Promise<RoundOutcome> {
  const first = await runRound(p, { log });
  if (first.failure || (first.samples.length > 0 && !RATE_KINDS.has(p.probe.kind))) return first;
  await new Promise((r) => setTimeout(r, SECOND_READING_MS));
  const second = await runRound(p, { log });
  return second.samples.length > 0 || second.failure ? second : first;
}

/**
 * Runs every probe once, each cut at its timeout. They run side by side, except the speed test,
 * which runs alone afterwards: it fills the link and would spoil the latency figures.
 */
export async function runOnce(probes: readonly ScheduledProbe[], log: Logger): Promise<RoundOutcome[]> {
  const heavy = probes.filter((p) => p.probe.kind === 'speedtest');
  const light = probes.filter((p) => p.probe.kind !== 'speedtest');
  const outcomes = await Promise.all(light.map((p) => roundWithSecondReading(p, log)));
  for (const p of heavy) outcomes.push(await runRound(p, { log }));
  return outcomes;
}

export function onceReport(uai: string, agent: string, t: number, outcomes: RoundOutcome[]): OnceReport {
  return {
    uai,
    agent,
    t,
    results: outcomes.map((o) => ({
      probe: o.name,
      kind: o.kind,
      durationMs: o.durationMs,
      ...(o.failure ? { failure: o.failure } : {}),
      samples: o.samples,
    })),
  };
}

const num = (v: number | undefined, digits = 1) => (v === undefined ? '-' : v.toFixed(digits));

export function formatBps(bps: number | undefined): string {
  if (bps === undefined) return '-';
  if (bps >= 1e9) return `${(bps / 1e9).toFixed(2)} Gbit/s`;
  if (bps >= 1e6) return `${(bps / 1e6).toFixed(2)} Mbit/s`;
  if (bps >= 1e3) return `${(bps / 1e3).toFixed(1)} kbit/s`;
  return `${Math.round(bps)} bit/s`;
}

export function formatDuration(s: number): string {
  const d = Math.floor(s / 86400);
  const h = Math.floor((s % 86400) / 3600);
  const m = Math.floor((s % 3600) / 60);
  if (d > 0) return `${d}d${h}h`;
  if (h > 0) return `${h}h${m}m`;
  return `${m}m${Math.floor(s % 60)}s`;
}

type SampleRow = { subject: string; status: string; details: string };

// One row maker per kind (shared/schemas.ts): a kind without its own fails to compile.
const ROWS: { [K in ProbeKind]: (s: SampleOf<K>) => SampleRow } = {
  ping: (s) => ({
    subject: s.role ? `${s.target} (${s.role})` : s.target,
    status: s.error ?? (s.received > 0 ? 'ok' : 'down'),
    details:
      `loss ${num(s.lossPct)}% (${s.received}/${s.sent})` +
      (s.received > 0
        ? `  rtt min/med/avg/p95/max ${num(s.minMs, 2)}/${num(s.medianMs, 2)}/${num(s.avgMs, 2)}/` +
          `${num(s.p95Ms, 2)}/${num(s.maxMs, 2)} ms  jitter ${num(s.jitterMs, 2)} ms`
        : ''),
  }),
  dns: (s) => ({
    subject: `${s.name} @${s.resolver}`,
    status: s.rcode,
    details: s.timeMs === undefined ? '' : `${num(s.timeMs)} ms`,
  }),
  http: (s) => ({
    subject: s.target,
    status: s.error ?? (s.ok ? `ok ${s.status}` : `fail ${s.status}`),
    details: [
      s.status ? `status ${s.status}` : '',
      s.ttfbMs !== undefined ? `ttfb ${num(s.ttfbMs)} ms` : '',
      s.totalMs !== undefined ? `total ${num(s.totalMs)} ms` : '',
      s.certDaysLeft !== undefined ? `cert ${Math.floor(s.certDaysLeft)} days left` : '',
    ]
      .filter(Boolean)
      .join('  '),
  }),
  wan: (s) => ({
    subject: `${s.source}:${s.iface}`,
    status: s.counterReset ? 'counter reset' : 'ok',
    details:
      `in ${formatBps(s.inBps)}  out ${formatBps(s.outBps)}` +
      (s.inPct !== undefined || s.outPct !== undefined
        ? `  (${num(s.inPct)}% / ${num(s.outPct)}% of contract)`
        : ''),
  }),
  wifi: (s) => ({
    subject: s.ap,
    status: s.up ? 'up' : (s.error ?? 'down'),
    details: [
      `reachable ${s.reachable ? 'yes' : 'no'}`,
      s.uptimeS !== undefined ? `uptime ${formatDuration(s.uptimeS)}` : '',
      s.rebooted ? 'rebooted' : '',
      s.radiosTotal !== undefined ? `radios ${s.radiosUp ?? 0}/${s.radiosTotal} up` : '',
      s.clients !== undefined ? `clients ${s.clients}` : '',
    ]
      .filter(Boolean)
      .join('  '),
  }),
  speedtest: (s) => ({
    subject: s.target,
    status: s.error ?? (s.ok ? 'ok' : 'fail'),
    details:
      `down ${formatBps(s.downBps)}  up ${formatBps(s.upBps)}` +
      (s.durationMs !== undefined ? `  over ${(s.durationMs / 1000).toFixed(1)} s` : ''),
  }),
  self: (s) => ({
    subject: 'agent',
    status: 'ok',
    details:
      `version ${s.version}  rss ${(s.rssBytes / 1048576).toFixed(1)} MiB  cpu ${num(s.cpuPct, 2)}%  ` +
      `spool ${s.spoolBatches} batch(es) ${(s.spoolBytes / 1024).toFixed(1)} KiB, ${s.spoolDropped} dropped`,
  }),
};

/** One table row per sample: what was measured, whether it went well, and its figures. */
export function describeSample(s: Sample): SampleRow {
  return (ROWS[s.probe] as (s: Sample) => SampleRow)(s);
}

export function formatTable(report: OnceReport): string {
  const rows: string[][] = [['PROBE', 'TARGET', 'STATUS', 'TIME', 'DETAILS']];
  for (const r of report.results) {
    const time = `${r.durationMs} ms`;
    if (r.failure && r.samples.length === 0) {
      rows.push([r.probe, '-', r.failure.code, time, r.failure.message]);
    }
    for (const s of r.samples) {
      const d = describeSample(s);
      rows.push([r.probe, d.subject, d.status, time, d.details]);
    }
    if (r.failure && r.samples.length > 0) rows.push([r.probe, '-', r.failure.code, time, r.failure.message]);
    if (!r.failure && r.samples.length === 0) {
      rows.push([
        r.probe,
        '-',
        'no sample',
        time,
        'nothing to measure: no target configured, or outside its schedule',
      ]);
    }
  }
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((row) => row[i]!.length)));
  const lines = rows.map((row) =>
    row
      .map((cell, i) => (i === row.length - 1 ? cell : cell.padEnd(widths[i]!)))
      .join('  ')
      .trimEnd(),
  );
  const samples = report.results.reduce((n, r) => n + r.samples.length, 0);
  const failed = report.results.filter((r) => r.failure).length;
  lines.push('');
  lines.push(
    `school ${report.uai}, agent ${report.agent}: ${report.results.length} probe(s), ${samples} sample(s), ` +
      `${failed} round(s) failed; nothing was published`,
  );
  lines.push(...verdictLines(report));
  return `${lines.join('\n')}\n`;
}

/** What `--once` concludes for the installer: can this school reach the internet? */
export type OnceVerdict = 'internet' | 'no_internet' | 'unchecked';

/**
 * `internet` when one internet check succeeded (an anchor answered a ping, a DNS query was answered,
 * a web site or the speed test worked); `no_internet` when there were some and all failed;
 * `unchecked` when none is configured. `gateway`: whether a gateway answered (which side is cut).
 */
export function onceVerdict(report: OnceReport): { verdict: OnceVerdict; gateway: boolean | undefined } {
  let checks = 0;
  let reached = 0;
  let gateway: boolean | undefined;
  for (const s of report.results.flatMap((r) => r.samples)) {
    if (s.probe === 'ping' && s.role === 'gateway') gateway = (gateway ?? false) || s.received > 0;
    const internet =
      s.probe === 'ping'
        ? s.role === 'anchor'
          ? s.received > 0
          : undefined
        : s.probe === 'dns' || s.probe === 'http' || s.probe === 'speedtest'
          ? s.ok
          : undefined;
    if (internet === undefined) continue;
    checks += 1;
    if (internet) reached += 1;
  }
  return { verdict: checks === 0 ? 'unchecked' : reached > 0 ? 'internet' : 'no_internet', gateway };
}

/** The verdict in plain French and English, for the end of the table. */
export function verdictLines(report: OnceReport): string[] {
  const { verdict, gateway } = onceVerdict(report);
  if (verdict === 'internet')
    return ['VERDICT : internet joignable depuis l’école.', 'VERDICT: the school reaches the internet.'];
  if (verdict === 'unchecked')
    return [
      'VERDICT : aucune vérification d’internet configurée (ancre, DNS, site web).',
      'VERDICT: no internet check configured (anchor, DNS, web site).',
    ];
  if (gateway)
    return [
      'VERDICT : l’école n’atteint PAS internet. La passerelle répond, mais ni ancre, ni DNS, ni site web : coupure côté accès internet (box, fournisseur) probable.',
      'VERDICT: the school CANNOT reach the internet. The gateway answers, but no anchor, DNS or web site does: the internet access (box, ISP) is likely cut.',
    ];
  return [
    'VERDICT : l’école n’atteint PAS internet. Rien ne répond, pas même la passerelle : vérifier le câble, la box et le réseau de l’école.',
    'VERDICT: the school CANNOT reach the internet. Nothing answers, not even the gateway: check the cable, the box and the school network.',
  ];
}

/** Exit code of `--once`: 0, or ONCE_NO_INTERNET when the school cannot reach the internet. */
export const ONCE_NO_INTERNET = 3;
