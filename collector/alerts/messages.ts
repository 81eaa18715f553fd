// Alert texts in French or English: school name, commune, UAI, since when, for how long, dashboard link.
import type { Alert, MuteReason, Notification, SchoolInfo } from './policy.ts';

export type Language = 'fr' | 'en';

export interface MessageOptions {
  language: Language;
  timezone: string;
  /** Dashboard link template; {uai} is replaced. Mass outages link to the fleet view (`fleetUrl`). */
  schoolUrl: string;
  fleetUrl: string;
}

export interface RenderedAlert {
  title: string;
  text: string;
  link: string;
  severity: Alert['severity'];
  status: 'firing' | 'resolved';
}

const WORDS = {
  fr: {
    school_offline: 'hors ligne',
    school_degraded: 'accès internet dégradé',
    loss: 'pertes de paquets',
    latency: 'latence élevée',
    ap_down: 'borne Wi-Fi hors service',
    wan_saturation: 'lien saturé',
    mass_outage: 'panne groupée',
    collector_broker: 'le collecteur a perdu le broker MQTT',
    since: 'depuis',
    resolved: 'RÉTABLI',
    firing: 'ALERTE',
    reminder: 'RAPPEL',
    duration: 'durée',
    schools: 'écoles',
    held: {
      outside_hours: 'survenu hors des horaires scolaires',
      maintenance: 'survenu pendant une maintenance',
      silenced: 'survenu pendant une mise en silence',
      parent_down: 'masqué par la panne de l’école',
      collector_disconnected: 'survenu pendant une coupure du collecteur',
    } satisfies Record<MuteReason, string>,
  },
  en: {
    school_offline: 'offline',
    school_degraded: 'internet access degraded',
    loss: 'packet loss',
    latency: 'high latency',
    ap_down: 'Wi-Fi access point down',
    wan_saturation: 'link saturated',
    mass_outage: 'mass outage',
    collector_broker: 'the collector lost its MQTT broker',
    since: 'since',
    resolved: 'RESOLVED',
    firing: 'ALERT',
    reminder: 'REMINDER',
    duration: 'duration',
    schools: 'schools',
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

export function render(
  n: Notification,
  school: (uai: string) => SchoolInfo | undefined,
  opts: MessageOptions,
): RenderedAlert {
  const w = WORDS[opts.language];
  const a = n.alert;
  const head = n.type === 'resolved' ? w.resolved : n.type === 'reminder' ? w.reminder : w.firing;
  const what = w[a.kind];
  const since = `${w.since} ${formatTime(a.since, opts)}`;
  const duration =
    n.type === 'resolved'
      ? ` — ${w.duration} ${formatDuration(n.durationMs ?? n.at - a.since, opts.language)}`
      : '';
  const held = n.delayedBy ? ` (${w.held[n.delayedBy]})` : '';
  if (a.kind === 'mass_outage') {
    const members = a.members ?? [];
    const names = members.map((u) => school(u)?.name ?? u);
    const shown = names.slice(0, 10).join(', ') + (names.length > 10 ? ', …' : '');
    const title = `[${head}] ${what}: ${members.length} ${w.schools} (${a.group?.by} ${a.group?.value})`;
    return {
      title,
      text: `${title} ${since}${duration}${held}\n${shown}\n${opts.fleetUrl}`,
      link: opts.fleetUrl,
      severity: a.severity,
      status: n.type === 'resolved' ? 'resolved' : 'firing',
    };
  }
  if (!a.uai) {
    const title = `[${head}] ${what}`;
    return {
      title,
      text: `${title} ${since}${duration}${held}`,
      link: opts.fleetUrl,
      severity: a.severity,
      status: n.type === 'resolved' ? 'resolved' : 'firing',
    };
  }
  const s = school(a.uai);
  const name = s ? `${s.name} (${s.commune}, UAI ${a.uai})` : `UAI ${a.uai}`;
  const subject = a.subject ? ` — ${a.subject}` : '';
  const value = a.value !== undefined && n.type !== 'resolved' ? ` [${Math.round(a.value * 10) / 10}]` : '';
  const link = opts.schoolUrl.replaceAll('{uai}', encodeURIComponent(a.uai));
  const title = `[${head}] ${name}: ${what}${subject}`;
  return {
    title,
    text: `${title}${value} ${since}${duration}${held}\n${link}`,
    link,
    severity: a.severity,
    status: n.type === 'resolved' ? 'resolved' : 'firing',
  };
}
