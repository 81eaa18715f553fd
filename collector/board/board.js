// Vigie status board: one tile per school, grouped by commune, kept live by a Server-Sent Events
// stream read with fetch (so a token can travel in a header), falling back to polling.
// A token given as #token=... in the address is kept in this browser and taken out of the address.

const TEXT = {
  fr: {
    online: 'En ligne',
    degraded: 'Dégradé',
    offline: 'Hors ligne',
    unknown: 'Inconnu',
    since: 'depuis',
    latency: 'latence',
    loss: 'perte',
    usage: 'trafic',
    test: 'test',
    seen: (d) => `vu il y a ${d}`,
    never: 'jamais vu',
    noCommune: 'Sans commune',
    schools: (n) => `${n} école${n > 1 ? 's' : ''}`,
    live: 'en direct',
    polling: 'actualisation périodique',
    down: 'collecteur injoignable',
    connecting: 'connexion…',
    updated: 'mis à jour',
    denied: "Accès refusé : ouvrez l'adresse avec #token=… ou depuis un réseau autorisé.",
    other: 'English',
    problemsFirst: 'Problèmes d’abord',
    byName: 'Par nom',
    day: 'j',
  },
  en: {
    online: 'Online',
    degraded: 'Degraded',
    offline: 'Offline',
    unknown: 'Unknown',
    since: 'for',
    latency: 'latency',
    loss: 'loss',
    usage: 'traffic',
    test: 'test',
    seen: (d) => `seen ${d} ago`,
    never: 'never seen',
    noCommune: 'No commune',
    schools: (n) => `${n} school${n > 1 ? 's' : ''}`,
    live: 'live',
    polling: 'polling',
    down: 'collector unreachable',
    connecting: 'connecting…',
    updated: 'updated',
    denied: 'Access denied: open the address with #token=… or from an allowed network.',
    other: 'Français',
    problemsFirst: 'Problems first',
    byName: 'By name',
    day: 'd',
  },
};
const STATES = ['offline', 'degraded', 'online', 'unknown'];
const SEVERITY = { offline: 0, degraded: 1, unknown: 2, online: 3 };

const board = {
  lang: 'fr',
  /** Offline and degraded schools, and the communes that have them, first: for large fleets. */
  problemsFirst: false,
  /** ?commune=A,B in the address: one wall screen per area. */
  communes: null,
  pollS: 15,
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

function bps(v) {
  if (v === null || v === undefined) return '–';
  if (v >= 1e9) return `${(v / 1e9).toFixed(1)} Gb/s`;
  if (v >= 1e6) return `${(v / 1e6).toFixed(v >= 1e8 ? 0 : 1)} Mb/s`;
  if (v >= 1e3) return `${Math.round(v / 1e3)} kb/s`;
  return `${Math.round(v)} b/s`;
}

function el(tag, cls, text) {
  const e = document.createElement(tag);
  if (cls) e.className = cls;
  if (text !== undefined) e.textContent = text;
  return e;
}

function tile(s, now) {
  const div = el('article', 'tile');
  div.dataset.uai = s.uai;
  div.dataset.state = s.state;
  const name = s.dashboardUrl ? el('a', 'name', s.name) : el('span', 'name', s.name);
  if (s.dashboardUrl) {
    name.href = s.dashboardUrl;
    name.target = '_blank';
    name.rel = 'noopener';
  }
  div.append(name);
  div.append(el('span', 'state', `${t(s.state)} · ${t('since')} ${duration(now - s.since)}`));
  const figures = [];
  if (s.latencyMs !== null) figures.push(`${t('latency')} ${Math.round(s.latencyMs)} ms`);
  if (s.lossPct !== null)
    figures.push(
      `${t('loss')} ${s.lossPct < 1 && s.lossPct > 0 ? s.lossPct.toFixed(1) : Math.round(s.lossPct)} %`,
    );
  if (figures.length) div.append(el('span', 'figures', figures.join(' · ')));
  const flow = [];
  if (s.wanInBps !== null) flow.push(`${t('usage')} ↓ ${bps(s.wanInBps)} ↑ ${bps(s.wanOutBps)}`);
  if (s.speedtestDownBps !== null)
    flow.push(`${t('test')} ↓ ${bps(s.speedtestDownBps)} ↑ ${bps(s.speedtestUpBps)}`);
  for (const f of flow) div.append(el('span', 'figures', f));
  const seen = s.lastSeenAt ? t('seen', duration(now - s.lastSeenAt)) : t('never');
  div.append(el('span', 'meta', `${s.uai} · ${seen}${s.agentVersion ? ` · v${s.agentVersion}` : ''}`));
  div.title = `${s.name} (${s.uai}) — ${s.reason}`;
  return div;
}

function render() {
  const now = Date.now() + board.skewMs;
  const byCommune = new Map();
  const counts = { offline: 0, degraded: 0, online: 0, unknown: 0 };
  for (const s of board.schools.values()) {
    if (board.communes && !board.communes.includes(s.commune)) continue;
    counts[s.state] = (counts[s.state] ?? 0) + 1;
    const key = s.commune || t('noCommune');
    if (!byCommune.has(key)) byCommune.set(key, []);
    byCommune.get(key).push(s);
  }
  const main = document.getElementById('board');
  const frag = document.createDocumentFragment();
  const severity = (s) => (board.problemsFirst ? SEVERITY[s.state] : 0);
  const worst = (list) => Math.min(...list.map(severity));
  const communes = [...byCommune.keys()].sort(
    (a, b) => worst(byCommune.get(a)) - worst(byCommune.get(b)) || a.localeCompare(b, 'fr'),
  );
  for (const commune of communes) {
    const schools = byCommune
      .get(commune)
      .sort((a, b) => severity(a) - severity(b) || a.name.localeCompare(b.name, 'fr'));
    const section = el('section', 'commune');
    const h2 = el('h2', null, commune);
    const problems = ['offline', 'degraded']
      .map((st) => [st, schools.filter((s) => s.state === st).length])
      .filter(([, n]) => n > 0)
      .map(([st, n]) => ` · ${n} ${t(st).toLowerCase()}`)
      .join('');
    h2.append(el('span', 'count', `${t('schools', schools.length)}${problems}`));
    section.append(h2);
    const tiles = el('div', 'tiles');
    for (const s of schools) tiles.append(tile(s, now));
    section.append(tiles);
    frag.append(section);
  }
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
  document.getElementById('order').textContent = board.problemsFirst ? t('byName') : t('problemsFirst');
  document.documentElement.lang = board.lang;
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

async function start() {
  board.token = takeToken();
  try {
    const cfg = await (await fetch('/board/config.json', { cache: 'no-store' })).json();
    board.pollS = cfg.pollS;
    board.lang = localStorage.getItem('vigie.lang') || cfg.language;
    document.getElementById('title').textContent = cfg.title;
    document.title = cfg.title;
  } catch {
    // Defaults will do.
  }
  board.problemsFirst = localStorage.getItem('vigie.problemsFirst') === '1';
  const only = new URLSearchParams(location.search).get('commune');
  if (only) board.communes = only.split(',').map((c) => c.trim());
  document.getElementById('order').addEventListener('click', () => {
    board.problemsFirst = !board.problemsFirst;
    localStorage.setItem('vigie.problemsFirst', board.problemsFirst ? '1' : '0');
    render();
  });
  document.getElementById('lang').addEventListener('click', () => {
    board.lang = board.lang === 'fr' ? 'en' : 'fr';
    localStorage.setItem('vigie.lang', board.lang);
    render();
  });
  render();
  // Durations move even when nothing else does.
  setInterval(render, 10_000);
  run();
}

start();
