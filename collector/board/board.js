// Vigie status board: one tile per school in one dense grid sized to fit the screen, kept live by a
// Server-Sent Events stream read with fetch (so a token can travel in a header), falling back to polling.
// A token given as #token=... in the address is kept in this browser and taken out of the address.
// ?lang=fr|en, ?order=commune|state|name and ?commune=A,B set the view; the buttons keep the address in step.

const TEXT = {
  fr: {
    report: "Rapport de l'année scolaire (JSON)",
    online: 'En ligne',
    degraded: 'Dégradé',
    offline: 'Hors ligne',
    unknown: 'Inconnu',
    since: 'depuis',
    latency: 'latence',
    loss: 'perte',
    usage: 'trafic',
    test: 'test',
    ago: (d) => `il y a ${d}`,
    lastKnown: (d) => `dernière mesure il y a ${d}`,
    noFigures: 'aucune mesure reçue',
    seen: (d) => `vu il y a ${d}`,
    noCommune: 'Sans commune',
    reason: {
      will: 'connexion perdue sans au revoir',
      stopped: 'boîtier arrêté proprement',
      silent: (d) => `silence depuis ${d}`,
      rebuilt: 'hors ligne avant le redémarrage du collecteur',
      no_agent: 'aucun boîtier connu',
      never_seen: 'jamais vu depuis le démarrage du collecteur',
      internet_unreachable: 'internet injoignable : aucune ancre ne répond',
      loss: 'pertes élevées vers internet',
      latency: 'latence élevée vers internet',
    },
    watch: {
      internet: 'internet sans réponse au dernier relevé — à confirmer',
      loss: 'pertes élevées au dernier relevé — à confirmer',
      latency: 'latence élevée au dernier relevé — à confirmer',
      better: 'dernier relevé normal — retour à confirmer',
    },
    live: 'en direct',
    polling: 'actualisation périodique',
    down: 'collecteur injoignable',
    connecting: 'connexion…',
    updated: 'mis à jour',
    denied: "Accès refusé : ouvrez l'adresse avec #token=… ou depuis un réseau autorisé.",
    other: 'English',
    order: 'Tri',
    orders: { commune: 'Commune', state: 'État', name: 'Nom' },
    day: 'j',
  },
  en: {
    report: 'School-year report (JSON)',
    online: 'Online',
    degraded: 'Degraded',
    offline: 'Offline',
    unknown: 'Unknown',
    since: 'for',
    latency: 'latency',
    loss: 'loss',
    usage: 'traffic',
    test: 'test',
    ago: (d) => `${d} ago`,
    lastKnown: (d) => `last reading ${d} ago`,
    noFigures: 'no reading received',
    seen: (d) => `seen ${d} ago`,
    noCommune: 'No commune',
    reason: {
      will: 'connection lost without a goodbye',
      stopped: 'box stopped cleanly',
      silent: (d) => `silent for ${d}`,
      rebuilt: 'offline before the collector restarted',
      no_agent: 'no box known',
      never_seen: 'never seen since the collector started',
      internet_unreachable: 'internet unreachable: no anchor answers',
      loss: 'high loss to the internet',
      latency: 'high latency to the internet',
    },
    watch: {
      internet: 'no answer from the internet in the last round — to be confirmed',
      loss: 'high loss in the last round — to be confirmed',
      latency: 'high latency in the last round — to be confirmed',
      better: 'last round normal — recovery to be confirmed',
    },
    live: 'live',
    polling: 'polling',
    down: 'collector unreachable',
    connecting: 'connecting…',
    updated: 'updated',
    denied: 'Access denied: open the address with #token=… or from an allowed network.',
    other: 'Français',
    order: 'Order',
    orders: { commune: 'Commune', state: 'State', name: 'Name' },
    day: 'd',
  },
};
const STATES = ['offline', 'degraded', 'online', 'unknown'];
const ORDERS = ['commune', 'state', 'name'];
/** Problems first: offline, degraded, online with a bad last round, unknown, online. */
const SEVERITY = { offline: 0, degraded: 1, unknown: 3, online: 4 };
/** Figures older than this are shown as last known even while the school is online. */
const STALE_MS = 10 * 60_000;

const board = {
  lang: 'fr',
  order: 'commune',
  /** ?commune=A,B in the address: one wall screen per area. */
  communes: null,
  pollS: 15,
  /** Past these, an online school's last round is flagged (collector/thresholds.ts, critical). */
  thresholds: { lossPct: 10, latencyMs: 200 },
  schools: new Map(),
  /** server clock − browser clock, so durations are right on a wall screen with a wrong clock. */
  skewMs: 0,
  mode: 'connecting',
  lastUpdate: 0,
  token: null,
};

function t(key, ...args) {
  const v = TEXT[board.lang][key];
  return typeof v === 'function' ? v(...args) : v;
}

function takeToken() {
  const m = /(?:^#|&)token=([^&]+)/.exec(location.hash);
  if (m) {
    localStorage.setItem('vigie.token', decodeURIComponent(m[1]));
    history.replaceState(null, '', location.pathname + location.search);
  }
  return localStorage.getItem('vigie.token');
}

function headers() {
  return board.token ? { authorization: `Bearer ${board.token}` } : {};
}

function duration(ms) {
  const s = Math.max(0, Math.floor(ms / 1000));
  if (s < 60) return `${s} s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m} min`;
  const h = Math.floor(m / 60);
  if (h < 24) return `${h} h ${String(m % 60).padStart(2, '0')}`;
  return `${Math.floor(h / 24)} ${t('day')} ${h % 24} h`;
}

function num(v, digits) {
  return new Intl.NumberFormat(board.lang, { maximumFractionDigits: digits }).format(v);
}

function bps(v) {
  if (v === null || v === undefined) return '–';
  if (v >= 1e9) return `${num(v / 1e9, 1)} Gb/s`;
  if (v >= 1e6) return `${num(v / 1e6, v >= 1e8 ? 0 : 1)} Mb/s`;
  if (v >= 1e3) return `${num(v / 1e3, 0)} kb/s`;
  return `${num(v, 0)} b/s`;
}

/** "↓ 24 ↑ 3,5 Mb/s": one unit when both directions share it. */
function pair(down, up) {
  const d = bps(down);
  const u = bps(up);
  const cut = d.lastIndexOf(' ');
  return cut > 0 && d.slice(cut) === u.slice(u.lastIndexOf(' '))
    ? `↓ ${d.slice(0, cut)} ↑ ${u}`
    : `↓ ${d} ↑ ${u}`;
}

/** A duration that never breaks across lines. */
const nb = (text) => text.replaceAll(' ', '\u00a0');

function el(tag, cls, text) {
  const e = document.createElement(tag);
  if (cls) e.className = cls;
  if (text !== undefined) e.textContent = text;
  return e;
}

/**
 * Whether the figures describe the school now. Offline or unknown: never. Online after an outage: not
 * until a round measured since it came back (readings never take the rounds the box replays from its
 * spool). Any state: not when older than STALE_MS.
 */
function current(s, now) {
  if (s.state !== 'online' && s.state !== 'degraded') return false;
  if (s.readingAt === null || now - s.readingAt > STALE_MS) return false;
  return !(s.state === 'online' && s.reason !== 'recovered' && s.readingAt < s.since);
}

/** Presence judges over several rounds; the tile says when the last one disagrees with the colour. */
function watch(s) {
  const bad =
    s.lossPct !== null && s.lossPct >= 100
      ? 'internet'
      : s.lossPct !== null && s.lossPct >= board.thresholds.lossPct
        ? 'loss'
        : s.latencyMs !== null && s.latencyMs >= board.thresholds.latencyMs
          ? 'latency'
          : null;
  if (s.state === 'online') return bad;
  if (s.state === 'degraded' && !bad && (s.lossPct !== null || s.latencyMs !== null)) return 'better';
  return null;
}

function reasonText(s, now) {
  const r = TEXT[board.lang].reason;
  const key = s.reason.replace(/^retained_/, '');
  if (s.state === 'offline') {
    if (key === 'silent') return r.silent(duration(now - (s.lastSeenAt ?? s.since)));
    return r[key] ?? s.reason;
  }
  if (s.state === 'degraded') return r[key] ?? s.reason;
  if (s.state === 'unknown') return r[key] ?? r.never_seen;
  return null;
}

function figureLines(s) {
  const lines = [];
  const ping = [];
  if (s.latencyMs !== null) ping.push(`${t('latency')} ${num(s.latencyMs, 0)} ms`);
  if (s.lossPct !== null) ping.push(`${t('loss')} ${num(s.lossPct, s.lossPct < 1 ? 1 : 0)} %`);
  if (ping.length) lines.push(ping.join(' · '));
  if (s.wanInBps !== null) lines.push(`${t('usage')} ${pair(s.wanInBps, s.wanOutBps)}`);
  return lines;
}

function tile(s, now) {
  const div = el('article', 'tile');
  div.dataset.uai = s.uai;
  div.dataset.state = s.state;
  const fresh = current(s, now);
  const concern = fresh ? watch(s) : null;
  if (concern) div.dataset.watch = concern;
  div.append(el('span', 'commune', s.commune || t('noCommune')));
  const name = s.dashboardUrl ? el('a', 'name', s.name) : el('span', 'name', s.name);
  if (s.dashboardUrl) {
    name.href = s.dashboardUrl;
    name.target = '_blank';
    name.rel = 'noopener';
  }
  div.append(name);
  div.append(el('span', 'state', `${t(s.state)} · ${t('since')} ${duration(now - s.since)}`));
  const why = reasonText(s, now);
  if (why) div.append(el('span', 'reason', why));
  if (concern) div.append(el('span', 'watch', TEXT[board.lang].watch[concern]));
  const lines = figureLines(s);
  if (fresh) {
    const box = el('div', 'figures now');
    for (const l of lines) box.append(el('span', null, l));
    if (s.speedtestDownBps !== null)
      box.append(
        el(
          'span',
          null,
          `${t('test')} ${pair(s.speedtestDownBps, s.speedtestUpBps)} · ${nb(t('ago', duration(now - s.speedtestAt)))}`,
        ),
      );
    if (box.childElementCount) div.append(box);
  } else {
    // Not online (or not yet measured since it came back): the last values, greyed, with their age.
    const box = el('div', 'figures last');
    const at = s.readingAt ?? (s.state === 'offline' ? s.lastSeenAt : null);
    if (lines.length && at !== null) {
      box.append(el('span', 'age', t('lastKnown', duration(now - at))));
      for (const l of lines) box.append(el('span', null, l));
    } else box.append(el('span', 'age', t('noFigures')));
    div.append(box);
  }
  const meta = [s.uai];
  if (s.state !== 'offline' && s.lastSeenAt) meta.push(t('seen', duration(now - s.lastSeenAt)));
  if (s.agentVersion) meta.push(`v${s.agentVersion}`);
  div.append(el('span', 'meta', meta.join(' · ')));
  div.title = `${s.name} (${s.commune}, UAI ${s.uai}) — ${t(s.state)}${why ? ` : ${why}` : ''}`;
  return div;
}

const collator = () => new Intl.Collator(board.lang === 'fr' ? 'fr' : 'en');

function sorted(list, now) {
  const c = collator();
  const byName = (a, b) => c.compare(a.name, b.name) || a.uai.localeCompare(b.uai);
  const commune = (s) => s.commune || t('noCommune');
  const rank = (s) => SEVERITY[s.state] - (s.state === 'online' && current(s, now) && watch(s) ? 2 : 0);
  const compare = {
    commune: (a, b) => c.compare(commune(a), commune(b)) || byName(a, b),
    name: (a, b) => byName(a, b) || c.compare(commune(a), commune(b)),
    state: (a, b) => rank(a) - rank(b) || byName(a, b),
  }[board.order];
  return list.sort(compare);
}

function render() {
  const now = Date.now() + board.skewMs;
  const counts = { offline: 0, degraded: 0, online: 0, unknown: 0 };
  const shown = [];
  for (const s of board.schools.values()) {
    if (board.communes && !board.communes.includes(s.commune)) continue;
    counts[s.state] = (counts[s.state] ?? 0) + 1;
    shown.push(s);
  }
  const main = document.getElementById('board');
  const frag = document.createDocumentFragment();
  for (const s of sorted(shown, now)) frag.append(tile(s, now));
  main.replaceChildren(frag);
  const summary = document.getElementById('summary');
  summary.replaceChildren(
    ...STATES.filter((st) => counts[st] > 0 || st !== 'unknown').map((st) => {
      const li = el('li', `pill-${st}`, `${t(st)} ${counts[st]}`);
      li.dataset.state = st;
      return li;
    }),
  );
  const link = document.getElementById('link');
  link.dataset.mode = board.mode;
  const at = board.lastUpdate
    ? ` · ${t('updated')} ${new Date(board.lastUpdate).toLocaleTimeString(board.lang)}`
    : '';
  link.textContent = `${t(board.mode)}${at}`;
  document.getElementById('lang').textContent = t('other');
  document.getElementById('report').textContent = t('report');
  document.getElementById('order-label').textContent = t('order');
  for (const b of document.querySelectorAll('#order button')) {
    b.textContent = TEXT[board.lang].orders[b.dataset.order];
    b.setAttribute('aria-pressed', String(b.dataset.order === board.order));
  }
  document.documentElement.lang = board.lang;
  fitToScreen();
}

/**
 * On a wall screen, the largest type at which every tile fits the window; on a phone (one column)
 * or past a few hundred schools, the page scrolls instead.
 */
function fitToScreen() {
  const main = document.getElementById('board');
  const page = document.documentElement;
  if (matchMedia('(max-width: 40rem)').matches || main.childElementCount > 300) {
    main.style.fontSize = '';
    return;
  }
  const fits = (px) => {
    main.style.fontSize = `${px}px`;
    return page.scrollHeight <= innerHeight;
  };
  let lo = 10;
  let hi = 22;
  if (fits(hi) || !fits(lo)) return;
  while (hi - lo > 0.25) {
    const mid = (lo + hi) / 2;
    if (fits(mid)) lo = mid;
    else hi = mid;
  }
  fits(lo);
}

function take(list, now) {
  if (typeof now === 'number') board.skewMs = now - Date.now();
  for (const s of list) board.schools.set(s.uai, s);
  board.lastUpdate = Date.now();
  render();
}

function problem(text) {
  const p = document.getElementById('problem');
  p.hidden = !text;
  p.textContent = text || '';
}

async function poll() {
  try {
    const res = await fetch('/api/schools', { headers: headers(), cache: 'no-store' });
    if (res.status === 401 || res.status === 403) {
      problem(t('denied'));
      return false;
    }
    if (!res.ok) throw new Error(`HTTP ${res.status}`);
    const body = await res.json();
    board.schools.clear();
    problem('');
    take(body.schools, body.now);
    return true;
  } catch {
    board.mode = 'down';
    render();
    return false;
  }
}

/** Reads the event stream until it ends; resolves false when it could not be opened. */
async function stream() {
  let res;
  try {
    res = await fetch('/api/stream', {
      headers: { ...headers(), accept: 'text/event-stream' },
      cache: 'no-store',
    });
  } catch {
    return false;
  }
  if (!res.ok || !res.body) {
    if (res.status === 401 || res.status === 403) problem(t('denied'));
    return false;
  }
  board.mode = 'live';
  problem('');
  const reader = res.body.pipeThrough(new TextDecoderStream()).getReader();
  let buffer = '';
  try {
    for (;;) {
      const { value, done } = await reader.read();
      if (done) break;
      buffer += value;
      let cut = buffer.indexOf('\n\n');
      while (cut >= 0) {
        handle(buffer.slice(0, cut));
        buffer = buffer.slice(cut + 2);
        cut = buffer.indexOf('\n\n');
      }
    }
  } catch {
    // The connection dropped: the caller falls back to polling and tries again.
  }
  return true;
}

function handle(block) {
  let event = 'message';
  let data = '';
  for (const line of block.split('\n')) {
    if (line.startsWith('event:')) event = line.slice(6).trim();
    else if (line.startsWith('data:')) data += line.slice(5).trim();
  }
  if (!data) return;
  const body = JSON.parse(data);
  if (event === 'snapshot') {
    board.schools.clear();
    take(body.schools, body.now);
  } else if (event === 'schools') {
    take(body.schools, body.now);
  }
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

async function run() {
  for (;;) {
    const opened = await stream();
    // Stream ended or refused: poll for a while, then try the stream again.
    board.mode = 'polling';
    render();
    const until = Date.now() + (opened ? 5_000 : 30_000);
    do {
      await poll();
      await sleep(board.pollS * 1000);
    } while (Date.now() < until);
  }
}

/** Keep the address in step with what the screen shows, so it can be copied to a wall screen. */
function remember(key, value) {
  localStorage.setItem(`vigie.${key}`, value);
  const url = new URL(location.href);
  url.searchParams.set(key, value);
  history.replaceState(null, '', url.pathname + url.search);
}

async function start() {
  board.token = takeToken();
  const params = new URLSearchParams(location.search);
  const pick = (key, allowed, fallback) =>
    [params.get(key), localStorage.getItem(`vigie.${key}`)].find((v) => allowed.includes(v)) ?? fallback;
  try {
    const cfg = await (await fetch('/board/config.json', { cache: 'no-store' })).json();
    board.pollS = cfg.pollS;
    board.lang = cfg.language;
    if (cfg.thresholds) board.thresholds = cfg.thresholds;
    document.getElementById('title').textContent = cfg.title;
    document.title = cfg.title;
  } catch {
    // Defaults will do.
  }
  board.lang = pick('lang', Object.keys(TEXT), board.lang);
  board.order = pick('order', ORDERS, board.order);
  const only = params.get('commune');
  if (only) board.communes = only.split(',').map((c) => c.trim());
  for (const b of document.querySelectorAll('#order button'))
    b.addEventListener('click', () => {
      board.order = b.dataset.order;
      remember('order', board.order);
      render();
    });
  document.getElementById('lang').addEventListener('click', () => {
    board.lang = board.lang === 'fr' ? 'en' : 'fr';
    remember('lang', board.lang);
    render();
  });
  // The current school year's figures (GET /api/report, docs/report.md), fetched with the token.
  document.getElementById('report').addEventListener('click', async (e) => {
    e.preventDefault();
    const res = await fetch('/api/report', { headers: headers() });
    if (!res.ok) return;
    const a = document.createElement('a');
    a.href = URL.createObjectURL(await res.blob());
    a.download = 'vigie-report.json';
    a.click();
  });
  addEventListener('resize', fitToScreen);
  render();
  // Durations move even when nothing else does.
  setInterval(render, 10_000);
  run();
}

start();
