// Alert texts in French or English. Every message says what, which school (name, commune, UAI),
// since when, until when (a resolution: its end and duration), why (the cause, or the threshold crossed
// with the measured value and its unit) and where to look (the dashboard link).
import type { Alert, MuteReason, Notification, SchoolInfo } from './policy.ts';

export type Language = 'fr' | 'en';

export interface MessageOptions {
  language: Language;
  timezone: string;
  /** Dashboard link template; {uai} is replaced. Mass outages link to the fleet view (`fleetUrl`). */
  schoolUrl: string;
  fleetUrl: string;
  /** Mass outages: how close together the schools went down (`mass.windowSeconds`). */
  massWindowMs?: number;
}

/** The latest live anchor round of a school (per anchor): the figures a degraded alert gives. */
export interface AnchorFigures {
  lossPct: Record<string, number>;
  latencyMs: Record<string, number>;
}

export interface RenderedAlert {
  title: string;
  text: string;
  link: string;
  /** What the link opens, in the message's language (a button's label). */
  linkLabel: string;
  severity: Alert['severity'];
  status: 'firing' | 'resolved';
}

type Words = (typeof WORDS)[Language];

const WORDS = {
  fr: {
    kind: {
      school_offline: 'hors ligne',
      school_degraded: 'accès internet dégradé',
      loss: 'pertes de paquets',
      latency: 'latence élevée',
      ap_down: 'borne Wi-Fi hors service',
      wan_saturation: 'lien internet saturé',
      clock_drift: 'horloge du boîtier décalée',
      mass_outage: 'panne groupée',
      collector_broker: 'le collecteur a perdu le broker MQTT',
      duplicate_identity: 'identité en double (deux boîtiers)',
    } satisfies Record<Alert['kind'], string>,
    head: { firing: 'ALERTE', reminder: 'RAPPEL', resolved: 'RÉTABLI' },
    to: 'vers',
    colon: ' : ',
    began: 'Début',
    lastSign: 'dernier signe de vie',
    ongoing: (d: string) => `en cours depuis ${d}`,
    still: (d: string) => `toujours en cours, depuis ${d}`,
    ended: 'Fin',
    duration: 'durée',
    cause: 'Cause',
    likely: 'Cause probable',
    late: 'Envoyé en différé',
    schoolsLabel: 'Écoles',
    dashboard: 'Tableau de bord',
    schools: (n: number) => `${n} école${n > 1 ? 's' : ''}`,
    more: (n: number) => `… et ${n} autre${n > 1 ? 's' : ''}`,
    group: { isp: 'FAI', commune: 'commune' },
    offline: {
      will: 'connexion perdue sans au revoir (le broker a vu tomber la connexion du boîtier : lien coupé, coupure de courant ou boîtier bloqué)',
      stopped: 'le boîtier s’est arrêté proprement (arrêt ou redémarrage volontaire)',
      silent:
        'silence depuis le dernier signe de vie (aucun message du boîtier, et le broker n’a pas vu tomber sa connexion : lien coupé en chemin)',
      rebuilt: 'hors ligne avant le redémarrage du collecteur (état relu dans InfluxDB)',
      other: (r: string) => `raison signalée « ${r} »`,
    },
    degraded: {
      internet_unreachable: (n: number) =>
        `internet injoignable (${n > 1 ? `aucune des ${n} ancres internet ne répond` : 'l’ancre internet ne répond pas'}, perte 100 %) alors que le boîtier joint encore le collecteur`,
      internet_unreachable_bare:
        'internet injoignable (aucune ancre internet ne répond) alors que le boîtier joint encore le collecteur',
      loss: 'pertes de paquets élevées vers internet',
      latency: 'latence élevée vers internet',
      measuredLoss: (v: string, to: string) => `perte ${v} vers ${to}`,
      measuredLatency: (v: string, to: string) => `latence médiane ${v} vers ${to}`,
      last: 'au dernier relevé',
      now: (figures: string) => `Dernier relevé : ${figures}`,
      other: (r: string) => `raison signalée « ${r} »`,
    },
    metric: {
      loss: (v: string, to: string) => `perte mesurée ${v} vers ${to}`,
      latency: (v: string, to: string) => `latence médiane mesurée ${v} vers ${to}`,
      wan_saturation: (v: string, iface: string) => `lien ${iface} utilisé à ${v} du débit souscrit`,
      ap_down: (ap: string) => `la borne ${ap} est éteinte ou ne répond plus`,
      clock_drift: (v: string, agent: string, ahead: boolean) =>
        `l’horloge de l’agent ${agent} ${ahead ? 'avance' : 'retarde'} de ${v} sur celle du collecteur ; ses mesures sont enregistrées à l’heure corrigée et marquées (clock_offset_s) ; vérifier la synchronisation NTP du boîtier`,
      threshold: (level: 'warning' | 'critical', v: string) =>
        `au-delà du seuil ${level === 'critical' ? 'critique' : 'd’alerte'} de ${v}`,
    },
    mass: (group: string, n: string, within: string | null) =>
      `une panne commune aux écoles ${group} (${n} hors ligne${within ? `, tombées à moins de ${within} d’écart` : ''})`,
    massGroup: { isp: (v: string) => `du FAI ${v}`, commune: (v: string) => `de la commune ${v}` },
    closed: 'Clôture',
    massEnded: 'il reste moins d’écoles hors ligne que le seuil d’une panne groupée',
    massLeft: 'Encore hors ligne (une alerte par école suit)',
    massAllBack: 'Toutes les écoles du groupe sont revenues.',
    broker:
      'le collecteur ne joint plus son broker MQTT : il ne reçoit plus rien des écoles, et n’en déclare aucune hors ligne tant que cela dure',
    duplicate: (uai: string, agent: string) =>
      agent.includes('+')
        ? `des boîtiers d’ids d’agent différents (${agent.split('+').join(', ')}) utilisent le même compte broker pour l’UAI ${uai} : le broker ne garde qu’une connexion par compte, chacun déconnecte donc l’autre. Cause probable : configuration copiée puis id d’agent modifié. À faire : donner à chaque boîtier son propre compte broker (vigie enroll). En attendant, ces coupures ne sont comptées ni comme pannes ni dans la disponibilité`
        : `deux boîtiers (ou plus) se connectent avec la même identité (UAI ${uai}, agent ${agent}) : le broker ne garde qu’une connexion par identité, chacun déconnecte donc l’autre. Cause probable : carte SD clonée ou configuration copiée. À faire : donner à chaque boîtier son propre id d’agent (et son compte broker). En attendant, les boîtiers espacent leurs reconnexions de plusieurs minutes ; ces coupures ne sont comptées ni comme pannes ni dans la disponibilité, mais les mesures des deux boîtiers se mélangent`,
    duplicateOver: (uai: string, agent: string) =>
      `les boîtiers de l’identité UAI ${uai}, agent ${agent} ne se prennent plus la connexion (un seul se connecte désormais)`,
    held: {
      outside_hours: 'survenu hors des horaires scolaires',
      maintenance: 'survenu pendant une maintenance',
      silenced: 'survenu pendant une mise en silence',
      parent_down: 'masqué par la panne de l’école',
      collector_disconnected: 'survenu pendant une coupure du collecteur',
    } satisfies Record<MuteReason, string>,
  },
  en: {
    kind: {
      school_offline: 'offline',
      school_degraded: 'internet access degraded',
      loss: 'packet loss',
      latency: 'high latency',
      ap_down: 'Wi-Fi access point down',
      wan_saturation: 'internet link saturated',
      clock_drift: 'box clock off',
      mass_outage: 'mass outage',
      collector_broker: 'the collector lost its MQTT broker',
      duplicate_identity: 'duplicated identity (two boxes)',
    } satisfies Record<Alert['kind'], string>,
    head: { firing: 'ALERT', reminder: 'REMINDER', resolved: 'RESOLVED' },
    to: 'to',
    colon: ': ',
    began: 'Started',
    lastSign: 'last sign of life',
    ongoing: (d: string) => `ongoing for ${d}`,
    still: (d: string) => `still ongoing, for ${d}`,
    ended: 'Ended',
    duration: 'duration',
    cause: 'Cause',
    likely: 'Likely cause',
    late: 'Sent late',
    schoolsLabel: 'Schools',
    dashboard: 'Dashboard',
    schools: (n: number) => `${n} school${n > 1 ? 's' : ''}`,
    more: (n: number) => `… and ${n} more`,
    group: { isp: 'ISP', commune: 'commune' },
    offline: {
      will: 'connection lost without a goodbye (the broker saw the box’s connection drop: link cut, power cut or box hung)',
      stopped: 'the box stopped cleanly (shut down or restarted on purpose)',
      silent:
        'silence since the last sign of life (no message from the box, and the broker did not see its connection drop: link cut along the way)',
      rebuilt: 'offline before the collector restarted (state read back from InfluxDB)',
      other: (r: string) => `reported reason "${r}"`,
    },
    degraded: {
      internet_unreachable: (n: number) =>
        `internet unreachable (${n > 1 ? `no answer from any of the ${n} internet anchors` : 'no answer from the internet anchor'}, loss 100 %) while the box still reaches the collector`,
      internet_unreachable_bare:
        'internet unreachable (no internet anchor answers) while the box still reaches the collector',
      loss: 'high packet loss to the internet',
      latency: 'high latency to the internet',
      measuredLoss: (v: string, to: string) => `loss ${v} to ${to}`,
      measuredLatency: (v: string, to: string) => `median latency ${v} to ${to}`,
      last: 'in the last round',
      now: (figures: string) => `Last round: ${figures}`,
      other: (r: string) => `reported reason "${r}"`,
    },
    metric: {
      loss: (v: string, to: string) => `measured loss ${v} to ${to}`,
      latency: (v: string, to: string) => `measured median latency ${v} to ${to}`,
      wan_saturation: (v: string, iface: string) => `link ${iface} used at ${v} of the contracted bandwidth`,
      ap_down: (ap: string) => `access point ${ap} is off or does not answer`,
      clock_drift: (v: string, agent: string, ahead: boolean) =>
        `the clock of agent ${agent} runs ${v} ${ahead ? 'ahead of' : 'behind'} the collector's; its measurements are stored at the corrected time and flagged (clock_offset_s); check the box's NTP synchronisation`,
      threshold: (level: 'warning' | 'critical', v: string) =>
        `past the ${level === 'critical' ? 'critical' : 'warning'} threshold of ${v}`,
    },
    mass: (group: string, n: string, within: string | null) =>
      `an outage shared by the schools of ${group} (${n} offline${within ? `, down within ${within} of each other` : ''})`,
    massGroup: { isp: (v: string) => `ISP ${v}`, commune: (v: string) => `the commune ${v}` },
    closed: 'Closed',
    massEnded: 'fewer schools are offline than the mass-outage threshold',
    massLeft: 'Still offline (one alert per school follows)',
    massAllBack: 'Every school of the group is back.',
    broker:
      'the collector cannot reach its MQTT broker: it receives nothing from the schools, and declares none offline while this lasts',
    duplicate: (uai: string, agent: string) =>
      agent.includes('+')
        ? `boxes with different agent ids (${agent.split('+').join(', ')}) use the same broker account for UAI ${uai}: the broker keeps one connection per account, so each box throws the other off. Likely cause: a copied config whose agent id was edited. To do: give each box its own broker account (vigie enroll). Meanwhile these drops count neither as outages nor against availability`
        : `two boxes (or more) connect with the same identity (UAI ${uai}, agent ${agent}): the broker keeps one connection per identity, so each box throws the other off. Likely cause: a cloned SD card or a copied config. To do: give each box its own agent id (and broker account). Meanwhile the boxes reconnect only every few minutes; these drops count neither as outages nor against availability, but the two boxes' measurements are mixed`,
    duplicateOver: (uai: string, agent: string) =>
      `the boxes of identity UAI ${uai}, agent ${agent} no longer take the connection from each other (only one connects now)`,
    held: {
      outside_hours: 'began outside school hours',
      maintenance: 'began during maintenance',
      silenced: 'began while silenced',
      parent_down: 'hidden by the school outage',
      collector_disconnected: 'began while the collector was cut off',
    } satisfies Record<MuteReason, string>,
  },
} as const;

export function formatDuration(ms: number, lang: Language): string {
  const s = Math.max(0, Math.round(ms / 1000));
  const d = Math.floor(s / 86400);
  const h = Math.floor((s % 86400) / 3600);
  const m = Math.floor((s % 3600) / 60);
  const sec = s % 60;
  const parts: string[] = [];
  if (d) parts.push(lang === 'fr' ? `${d} j` : `${d} d`);
  if (h) parts.push(`${h} h`);
  if (m) parts.push(`${m} min`);
  if (!d && !h && (sec || !m)) parts.push(`${sec} s`);
  return parts.join(' ');
}

export function formatTime(ms: number, opts: Pick<MessageOptions, 'language' | 'timezone'>): string {
  return new Intl.DateTimeFormat(opts.language === 'fr' ? 'fr-FR' : 'en-GB', {
    timeZone: opts.timezone,
    weekday: 'short',
    day: 'numeric',
    month: 'short',
    hour: '2-digit',
    minute: '2-digit',
  }).format(ms);
}

/** A measured value with its unit: `23,5 %`, `250 ms`, `96,1 Mb/s` (French decimal comma). */
export function formatValue(value: number, unit: '%' | 'ms' | 'Mb/s' | 's', lang: Language): string {
  const digits = unit === 'ms' && value >= 10 ? 0 : 1;
  const n = new Intl.NumberFormat(lang === 'fr' ? 'fr-FR' : 'en-GB', { maximumFractionDigits: digits });
  return `${n.format(value)} ${unit}`;
}

const UNIT = { loss: '%', latency: 'ms', wan_saturation: '%' } as const;

function who(uai: string, s: SchoolInfo | undefined): string {
  return s ? `${s.name} (${s.commune}, UAI ${uai})` : `UAI ${uai}`;
}

function schoolList(uais: readonly string[], school: (uai: string) => SchoolInfo | undefined, w: Words) {
  const shown = uais.slice(0, 10).map((u) => who(u, school(u)));
  if (uais.length > 10) shown.push(w.more(uais.length - 10));
  return shown.join(', ');
}

/** What happened, in a few words: "hors ligne", "pertes de paquets vers anchor-1", "panne groupée : 12 écoles (FAI Orange)". */
function what(a: Alert, n: Notification | null, w: Words): string {
  const kind = w.kind[a.kind];
  if (a.kind === 'mass_outage') {
    const group = a.group ? ` (${w.group[a.group.by]} ${a.group.value})` : '';
    // A resolution carries the schools still down, not the group's size: the count would mislead.
    return n?.type === 'resolved'
      ? `${kind}${group}`
      : `${kind}${w.colon}${w.schools(a.members?.length ?? 0)}${group}`;
  }
  if (!a.subject) return kind;
  // Two agent ids on one broker account come as `a+b` ('+' cannot be in an id: it is an MQTT wildcard).
  if (a.kind === 'duplicate_identity')
    return `${kind}${w.colon}${a.subject.includes('+') ? `agents ${a.subject.split('+').join(', ')}` : `agent ${a.subject}`}`;
  return a.kind === 'loss' || a.kind === 'latency'
    ? `${kind} ${w.to} ${a.subject}`
    : `${kind}${w.colon}${a.subject}`;
}

function worst(values: Record<string, number>): [string, number] | null {
  let top: [string, number] | null = null;
  for (const [subject, v] of Object.entries(values)) if (!top || v > top[1]) top = [subject, v];
  return top;
}

/** Why: the presence cause, or the threshold crossed with the measured value and its unit. */
function why(
  a: Alert,
  n: Notification | null,
  school: (uai: string) => SchoolInfo | undefined,
  figures: AnchorFigures | undefined,
  opts: MessageOptions,
): string {
  const w = WORDS[opts.language];
  const lang = opts.language;
  switch (a.kind) {
    case 'school_offline': {
      const r = (a.reason ?? '').replace(/^retained_/, '');
      return r === 'will' || r === 'stopped' || r === 'silent' || r === 'rebuilt'
        ? w.offline[r]
        : w.offline.other(a.reason ?? '?');
    }
    case 'school_degraded': {
      const loss = figures ? worst(figures.lossPct) : null;
      const latency = figures ? worst(figures.latencyMs) : null;
      if (a.reason === 'internet_unreachable') {
        const anchors = figures ? Object.keys(figures.lossPct).length : 0;
        return anchors && loss?.[1] === 100
          ? w.degraded.internet_unreachable(anchors)
          : w.degraded.internet_unreachable_bare;
      }
      if (a.reason === 'loss')
        return loss
          ? `${w.degraded.loss} (${w.degraded.measuredLoss(formatValue(loss[1], '%', lang), loss[0])} ${w.degraded.last})`
          : w.degraded.loss;
      if (a.reason === 'latency')
        return latency
          ? `${w.degraded.latency} (${w.degraded.measuredLatency(formatValue(latency[1], 'ms', lang), latency[0])} ${w.degraded.last})`
          : w.degraded.latency;
      return w.degraded.other(a.reason ?? '?');
    }
    case 'loss':
    case 'latency':
    case 'wan_saturation': {
      if (a.value === undefined) return w.kind[a.kind];
      const unit = UNIT[a.kind];
      const v = formatValue(a.value, unit, lang);
      const rate =
        a.kind === 'wan_saturation' && a.rateBps !== undefined
          ? ` (${formatValue(a.rateBps / 1e6, 'Mb/s', lang)})`
          : '';
      const measured = w.metric[a.kind](v, a.subject ?? '?') + rate;
      return a.threshold
        ? `${measured}, ${w.metric.threshold(a.threshold.level, formatValue(a.threshold.value, unit, lang))}`
        : measured;
    }
    case 'ap_down':
      return w.metric.ap_down(a.subject ?? '?');
    case 'clock_drift': {
      if (a.value === undefined) return w.kind[a.kind];
      const v = formatValue(Math.abs(a.value), 's', lang);
      const measured = w.metric.clock_drift(v, a.subject ?? '?', a.value > 0);
      return a.threshold
        ? `${measured}, ${w.metric.threshold(a.threshold.level, formatValue(a.threshold.value, 's', lang))}`
        : measured;
    }
    case 'mass_outage': {
      const group = a.group ? w.massGroup[a.group.by](a.group.value) : '?';
      if (n?.type === 'resolved') {
        const left = a.members ?? [];
        return left.length
          ? `${w.massEnded}.\n${w.massLeft}${w.colon}${schoolList(left, school, w)}`
          : `${w.massEnded}. ${w.massAllBack}`;
      }
      const within = opts.massWindowMs ? formatDuration(opts.massWindowMs, lang) : null;
      return w.mass(group, w.schools(a.members?.length ?? 0), within);
    }
    case 'collector_broker':
      return w.broker;
    case 'duplicate_identity':
      return n?.type === 'resolved'
        ? w.duplicateOver(a.uai ?? '?', a.subject ?? '?')
        : w.duplicate(a.uai ?? '?', a.subject ?? '?');
  }
}

/** One line for the API's alert list: who, what, why, in the configured language. */
export function describe(
  a: Alert,
  school: (uai: string) => SchoolInfo | undefined,
  opts: MessageOptions,
  figures?: AnchorFigures,
): string {
  const w = WORDS[opts.language];
  const subject = a.uai ? `${who(a.uai, school(a.uai))}${w.colon}${what(a, null, w)}` : what(a, null, w);
  return `${subject} — ${why(a, null, school, figures, opts).replaceAll('\n', ' ')}`;
}

/**
 * `figures`: the school's latest anchor round. A resolution gives its cause with `atStart` (the round
 * quoted when the alert was sent), and the latest round apart: the figures that ended it.
 */
export function render(
  n: Notification,
  school: (uai: string) => SchoolInfo | undefined,
  opts: MessageOptions,
  figures?: AnchorFigures,
  atStart?: AnchorFigures,
): RenderedAlert {
  const w = WORDS[opts.language];
  const lang = opts.language;
  const a = n.alert;
  const resolved = n.type === 'resolved';
  const subject = a.uai ? `${who(a.uai, school(a.uai))}${w.colon}${what(a, n, w)}` : what(a, n, w);
  const title = `[${w.head[n.type]}] ${subject}`;
  const start = `${w.began}${w.colon}${formatTime(a.since, opts)}${a.kind === 'school_offline' ? ` (${w.lastSign})` : ''}`;
  const elapsed = formatDuration(n.durationMs ?? n.at - a.since, lang);
  const when = resolved
    ? `${start} — ${w.ended}${w.colon}${formatTime(n.at, opts)} — ${w.duration} ${elapsed}`
    : `${start} — ${n.type === 'reminder' ? w.still(elapsed) : w.ongoing(elapsed)}`;
  const label = a.kind !== 'mass_outage' ? w.cause : resolved ? w.closed : w.likely;
  const cause = `${label}${w.colon}${why(a, n, school, resolved ? atStart : figures, opts)}`;
  const lines = [title, when, cause];
  if (a.kind === 'mass_outage' && !resolved && a.members?.length)
    lines.push(`${w.schoolsLabel}${w.colon}${schoolList(a.members, school, w)}`);
  if (a.kind === 'school_degraded' && resolved && figures) {
    const now = currentFigures(figures, lang);
    if (now) lines.push(w.degraded.now(now));
  }
  if (n.delayedBy) lines.push(`${w.late}${w.colon}${w.held[n.delayedBy]}`);
  const link =
    a.uai && a.kind !== 'mass_outage'
      ? opts.schoolUrl.replaceAll('{uai}', encodeURIComponent(a.uai))
      : opts.fleetUrl;
  lines.push(`${w.dashboard}${w.colon}${link}`);
  return {
    title,
    text: lines.join('\n'),
    link,
    linkLabel: w.dashboard,
    severity: a.severity,
    status: resolved ? 'resolved' : 'firing',
  };
}

/** "perte 0 %, latence 12 ms" from the worst anchor of the latest round. */
function currentFigures(f: AnchorFigures, lang: Language): string | null {
  const loss = worst(f.lossPct);
  const latency = worst(f.latencyMs);
  const parts: string[] = [];
  if (loss) parts.push(`${lang === 'fr' ? 'perte' : 'loss'} ${formatValue(loss[1], '%', lang)}`);
  if (latency) parts.push(`${lang === 'fr' ? 'latence' : 'latency'} ${formatValue(latency[1], 'ms', lang)}`);
  return parts.length ? parts.join(', ') : null;
}
