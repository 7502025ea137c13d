/* global document, sessionStorage, fetch, Node, URLSearchParams -- the browser's, where this module runs */
// The security console: one page, no framework, no build step. Every value from the gateway
// reaches the page through textContent or an SVG attribute set by the DOM API, never as markup
// (the page's CSP also requires Trusted Types, so an HTML sink would throw).
const TOKEN_KEY = 'inference-gateway.operator-token';
const LEVELS = ['none', 'flag', 'degrade', 'throttle', 'block'];
const SVG = 'http://www.w3.org/2000/svg';
const MAX_PAGES = 10;

const $ = (id) => document.getElementById(id);

/** An element with text and attributes, built by the DOM API. */
function el(tag, attrs = {}, ...children) {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) e.setAttribute(k, String(v));
  for (const c of children) e.append(c instanceof Node ? c : document.createTextNode(String(c)));
  return e;
}

function svg(tag, attrs = {}, text) {
  const e = document.createElementNS(SVG, tag);
  for (const [k, v] of Object.entries(attrs)) e.setAttribute(k, String(v));
  if (text !== undefined) e.textContent = String(text);
  return e;
}

const toMs = (t) => (typeof t === 'number' ? t : typeof t === 'string' ? Date.parse(t) : NaN);
const when = (t) => {
  const ms = toMs(t);
  return Number.isFinite(ms) ? new Date(ms).toISOString().replace('T', ' ').slice(0, 19) + 'Z' : '—';
};

class AuthError extends Error {}

async function api(path, init = {}) {
  const token = sessionStorage.getItem(TOKEN_KEY);
  if (!token) throw new AuthError('signed out');
  const headers = { authorization: `Bearer ${token}`, accept: 'application/json' };
  if (init.body !== undefined) headers['content-type'] = 'application/json';
  const r = await fetch(path, {
    ...init,
    headers,
    credentials: 'omit',
    cache: 'no-store',
    body: init.body === undefined ? undefined : JSON.stringify(init.body),
  });
  const body = await r.json().catch(() => ({}));
  if (r.status === 401 || r.status === 403) throw new AuthError(body.error || `refused (${r.status})`);
  if (!r.ok) throw new Error(body.error || `HTTP ${r.status}`);
  return body;
}

// ---- sign-in ---------------------------------------------------------------------------------

function showLogin(message = '') {
  $('app').hidden = true;
  $('who').hidden = true;
  $('login').hidden = false;
  $('login-error').textContent = message;
  for (const id of ['models', 'audit', 'changes', 'timeline', 'detail-facts']) $(id).replaceChildren();
  $('accounts').tBodies[0].replaceChildren();
}

async function signIn() {
  try {
    const me = await api('/operator/whoami');
    $('who-id').textContent = `${me.operator.kind === 'spiffe' ? 'peer' : 'token'}: ${me.operator.id}`;
    $('login').hidden = true;
    $('who').hidden = false;
    $('app').hidden = false;
    await refresh();
  } catch (err) {
    sessionStorage.removeItem(TOKEN_KEY);
    showLogin(
      err instanceof AuthError ? `Not signed in: ${err.message}` : `The gateway did not answer: ${err.message}`,
    );
  }
}

$('login-form').addEventListener('submit', (e) => {
  e.preventDefault();
  const token = $('token')
    .value.trim()
    .replace(/^bearer\s+/i, '');
  $('token').value = '';
  if (!token) return;
  sessionStorage.setItem(TOKEN_KEY, token);
  void signIn();
});

$('logout').addEventListener('click', () => {
  sessionStorage.removeItem(TOKEN_KEY);
  showLogin('Signed out.');
});

$('refresh').addEventListener('click', () => void refresh());

/** Runs a console step; a refusal sends the operator back to the sign-in. */
async function guarded(step) {
  try {
    await step();
  } catch (err) {
    if (err instanceof AuthError) {
      sessionStorage.removeItem(TOKEN_KEY);
      showLogin(`Signed out: ${err.message}`);
    } else $('action-result').textContent = `Error: ${err.message}`;
  }
}

// ---- models ----------------------------------------------------------------------------------

function levelBar(levels) {
  const total = LEVELS.reduce((n, l) => n + (levels[l] || 0), 0);
  const bar = el('div', {
    class: 'levelbar',
    role: 'img',
    'aria-label': LEVELS.map((l) => `${l} ${levels[l] || 0}`).join(', '),
  });
  for (const l of LEVELS) {
    const n = levels[l] || 0;
    if (n === 0 || total === 0) continue;
    const seg = el('span', { class: `lv-${l}`, title: `${l}: ${n}` });
    seg.style.flexGrow = String(n);
    bar.append(seg);
  }
  const legend = el('ul', { class: 'legend' });
  for (const l of LEVELS) legend.append(el('li', {}, el('i', { class: `lv-${l}` }), `${l} ${levels[l] || 0}`));
  return [bar, legend];
}

function modelCard(m) {
  const card = el('article', { class: 'model', 'data-model': m.model });
  card.append(
    el('h3', {}, m.model, el('span', { class: `mode mode-${m.effectiveMode || m.mode}` }, m.effectiveMode || m.mode)),
  );
  card.append(el('p', { class: 'muted' }, `${m.tracked} accounts tracked (room for ${m.capacity})`));
  card.append(...levelBar(m.levels || {}));
  const facts = el('dl', { class: 'facts' });
  const fact = (k, v) => facts.append(el('dt', {}, k), el('dd', {}, v));
  if (m.breaker)
    fact(
      'Breaker',
      m.breaker.tripped
        ? `tripped by ${m.breaker.detector} since ${when(m.breaker.since)}: ${m.breaker.reason}`
        : 'closed',
    );
  else fact('Breaker', 'not reported by this gateway');
  if (m.calibration) {
    const c = m.calibration;
    fact('Calibration', `${c.state}${c.pinned ? ' (pinned)' : ''} on ${c.accounts} accounts, ${c.queries} queries`);
    for (const [d, t] of Object.entries(c.thresholds || {}))
      fact(`  ${d}`, `threshold ${t}, base rate ${c.baseRates?.[d] ?? '—'}`);
  } else fact('Calibration', 'not reported by this gateway');
  fact('Overrides', `${m.overrides?.allow ?? 0} allow-listed, ${m.overrides?.block ?? 0} blocked by hand`);
  card.append(facts);
  return card;
}

// ---- accounts table --------------------------------------------------------------------------

let rows = [];
let sortKey = 'levelRank';
let sortDir = -1;

function rowOf(v) {
  return {
    ...v,
    levelRank: LEVELS.indexOf(v.level),
    detector: v.firstAlarm?.detector ?? v.lastDetector ?? '—',
    flaggedAt: toMs(v.firstFlaggedAt ?? v.since),
    overrideText: v.override ? `${v.override.kind} until ${when(v.override.until)}` : '',
  };
}

function renderTable() {
  const sorted = [...rows].sort((a, b) => {
    const x = a[sortKey];
    const y = b[sortKey];
    const c = typeof x === 'number' && typeof y === 'number' ? x - y : String(x).localeCompare(String(y));
    return c * sortDir || a.user.localeCompare(b.user);
  });
  for (const th of $('accounts').tHead.rows[0].cells)
    th.setAttribute('aria-sort', th.dataset.key === sortKey ? (sortDir > 0 ? 'ascending' : 'descending') : 'none');
  const body = $('accounts').tBodies[0];
  body.replaceChildren(
    ...sorted.map((r) => {
      const tr = el(
        'tr',
        { tabindex: 0, 'data-user': r.user, 'data-model': r.model },
        el('td', { class: 'user' }, r.user),
        el('td', {}, r.model),
        el('td', {}, el('span', { class: `pill lv-${r.level}` }, r.level)),
        el('td', { class: 'num' }, r.evidence),
        el('td', {}, r.detector),
        el('td', {}, when(r.flaggedAt)),
        el('td', { class: 'num' }, r.queries),
        el('td', {}, r.overrideText),
      );
      const open = () => void guarded(() => showAccount(r.user, r.model));
      tr.addEventListener('click', open);
      tr.addEventListener('keydown', (e) => e.key === 'Enter' && open());
      return tr;
    }),
  );
  if (sorted.length === 0) body.append(el('tr', {}, el('td', { colspan: 8, class: 'muted' }, 'No escalated account.')));
}

for (const th of $('accounts').tHead.rows[0].cells) {
  th.querySelector('button').addEventListener('click', () => {
    sortDir = sortKey === th.dataset.key ? -sortDir : 1;
    sortKey = th.dataset.key;
    renderTable();
  });
}

async function loadAccounts() {
  const out = [];
  let cursor = null;
  let pages = 0;
  do {
    const q = new URLSearchParams({ minLevel: 'flag', limit: '100' });
    if (cursor) q.set('cursor', cursor);
    const page = await api(`/extraction/users?${q}`);
    out.push(...page.users);
    cursor = page.next;
  } while (cursor && ++pages < MAX_PAGES);
  rows = out.map(rowOf);
  $('accounts-note').textContent = cursor
    ? `first ${rows.length} shown; narrow by model to see more`
    : `${rows.length} account(s) at flag or above`;
  renderTable();
}

// ---- one account -----------------------------------------------------------------------------

/** The account's timeline as a chart: queries per bucket (bars), level (step line), level changes (marks). */
function timelineChart(v) {
  const W = 760;
  const H = 220;
  const P = { l: 48, r: 70, t: 16, b: 30 };
  let points = (v.timeline || []).map((p) => ({
    at: toMs(p.at),
    queries: p.queries,
    level: LEVELS.indexOf(p.level),
    maxScore: p.maxScore,
  }));
  let caption = 'Queries scored per interval (bars), the account’s level (line) and its level changes (marks).';
  if (points.length === 0) {
    // A gateway that keeps no per-account timeline: what it does report, from first sight to now.
    points = [
      { at: toMs(v.since), queries: 0, level: 0 },
      { at: Date.now(), queries: v.queries, level: LEVELS.indexOf(v.level) },
    ];
    caption = 'This gateway reports no per-interval timeline: first seen and now only.';
  }
  const changes = (v.levelChanges || []).map((c) => ({ at: toMs(c.at), from: c.from, to: c.to, detector: c.detector }));
  const times = [...points.map((p) => p.at), ...changes.map((c) => c.at)].filter(Number.isFinite);
  // Half an interval of room on each side, so the first and last bars sit inside the axes.
  const gap =
    points.length > 1
      ? (Math.max(...points.map((p) => p.at)) - Math.min(...points.map((p) => p.at))) / (points.length - 1) / 2
      : 1000;
  const t0 = Math.min(...times) - gap;
  const t1 = Math.max(...times, t0 + 1000) + gap;
  const qMax = Math.max(1, ...points.map((p) => p.queries));
  const x = (t) => P.l + ((t - t0) / (t1 - t0)) * (W - P.l - P.r);
  const yq = (q) => H - P.b - (q / qMax) * (H - P.t - P.b);
  const yl = (l) => H - P.b - (l / (LEVELS.length - 1)) * (H - P.t - P.b);

  const root = svg('svg', {
    viewBox: `0 0 ${W} ${H}`,
    role: 'img',
    class: 'chart',
    'aria-label': `timeline of ${v.user}`,
  });
  root.append(svg('title', {}, `Timeline of ${v.user} on ${v.model}`));
  const axes = svg('g', { class: 'axes' });
  axes.append(
    svg('line', { x1: P.l, y1: H - P.b, x2: W - P.r, y2: H - P.b }),
    svg('line', { x1: P.l, y1: P.t, x2: P.l, y2: H - P.b }),
  );
  axes.append(
    svg('text', { x: P.l - 6, y: P.t + 4, 'text-anchor': 'end' }, qMax),
    svg('text', { x: P.l - 6, y: H - P.b, 'text-anchor': 'end' }, 0),
  );
  axes.append(
    svg('text', { x: P.l, y: H - 8 }, when(t0)),
    svg('text', { x: W - P.r, y: H - 8, 'text-anchor': 'end' }, when(t1)),
  );
  for (let l = 0; l < LEVELS.length; l++)
    axes.append(svg('text', { x: W - P.r + 6, y: yl(l) + 4, class: `lvl lv-${LEVELS[l]}` }, LEVELS[l]));
  root.append(axes);

  const bw = Math.max(2, Math.min(24, (W - P.l - P.r) / Math.max(points.length, 1) - 2));
  const bars = svg('g', { class: 'bars' });
  for (const p of points) {
    if (p.queries <= 0) continue;
    const r = svg('rect', { x: x(p.at) - bw / 2, y: yq(p.queries), width: bw, height: H - P.b - yq(p.queries) });
    r.append(
      svg(
        'title',
        {},
        `${when(p.at)}: ${p.queries} queries${p.maxScore !== undefined ? `, max score ${p.maxScore}` : ''}`,
      ),
    );
    bars.append(r);
  }
  root.append(bars);

  // The level as a step line from the first moment shown to the last: at the exact times of the
  // level changes when the gateway reports them, else at the intervals' levels.
  const steps =
    changes.length > 0
      ? changes.map((c) => ({ at: c.at, level: LEVELS.indexOf(c.to) }))
      : points.map((p) => ({ at: p.at, level: p.level }));
  const start = changes.length > 0 ? LEVELS.indexOf(changes[0].from) : steps[0].level;
  let d = `M${x(t0)},${yl(start)}`;
  for (const s of steps) d += `H${x(s.at)}V${yl(s.level)}`;
  d += `H${x(t1)}`;
  root.append(svg('path', { d, class: 'level-line' }));
  for (const c of changes) {
    const g = svg('g', { class: `change lv-${c.to}` });
    g.append(
      svg('line', { x1: x(c.at), y1: P.t, x2: x(c.at), y2: H - P.b }),
      svg('circle', { cx: x(c.at), cy: yl(LEVELS.indexOf(c.to)), r: 4 }),
    );
    g.append(svg('title', {}, `${when(c.at)}: ${c.from} → ${c.to}${c.detector ? ` (${c.detector})` : ''}`));
    root.append(g);
  }
  return { chart: root, caption };
}

let current = null;

async function showAccount(user, model) {
  const a = await api(`/extraction/users/${encodeURIComponent(user)}?model=${encodeURIComponent(model)}`);
  const v = a.models[0];
  current = { user, model };
  $('detail').hidden = false;
  $('detail-user').textContent = user;
  $('detail-model').textContent = model;
  const facts = $('detail-facts');
  facts.replaceChildren();
  const fact = (k, val) => facts.append(el('dt', {}, k), el('dd', {}, val));
  fact('Level', v.level);
  fact('Evidence', v.evidence);
  fact('Queries', `${v.queries} (${v.alarmedQueries} while a detector alarmed, ${v.exactDuplicates} exact repeats)`);
  fact('First seen', when(v.since));
  if (v.firstAlarm)
    fact(
      'First alarm',
      `${v.firstAlarm.detector} score ${v.firstAlarm.score} over threshold ${v.firstAlarm.threshold ?? '—'} at ${when(v.firstFlaggedAt)}`,
    );
  fact('Last detector', v.lastDetector ?? '—');
  fact(
    'Scores',
    Object.entries(v.scores || {})
      .map(([k, s]) => `${k} ${s}`)
      .join(' · '),
  );
  fact('Override', v.override ? `${v.override.kind} until ${when(v.override.until)} (by ${v.override.by})` : 'none');
  const { chart, caption } = timelineChart(v);
  $('timeline').replaceChildren(chart);
  $('timeline-caption').textContent = caption;
  const changes = v.levelChanges || [];
  $('changes').replaceChildren(
    ...(changes.length
      ? changes.map((c) => el('li', {}, `${when(c.at)} ${c.from} → ${c.to}${c.detector ? ` (${c.detector})` : ''}`))
      : [el('li', { class: 'muted' }, 'none reported')]),
  );
  $('detail').scrollIntoView({ block: 'nearest' });
}

$('detail-close').addEventListener('click', () => {
  $('detail').hidden = true;
  current = null;
});

// ---- actions with confirmation ---------------------------------------------------------------

function confirmAction(text) {
  const dialog = $('confirm');
  $('confirm-text').textContent = text;
  return new Promise((resolve) => {
    dialog.addEventListener('close', () => resolve(dialog.returnValue === 'ok'), { once: true });
    dialog.returnValue = 'cancel';
    dialog.showModal();
  });
}

for (const b of document.querySelectorAll('#confirm button')) {
  b.addEventListener('click', (e) => {
    e.preventDefault();
    $('confirm').close(b.value);
  });
}

const DESCRIBE = {
  clear: (u, m) => `Clear the extraction evidence of ${u} on ${m}? Its level drops to none.`,
  allow: (u, m, s) =>
    `Allow-list ${u} on ${m} for ${s / 3600} h? No action is applied meanwhile; its queries are still scored and counted.`,
  block: (u, m, s) => `Block ${u} on ${m} for ${s / 3600} h?`,
  lift: (u, m) => `Lift the allow-list entry or manual block of ${u} on ${m}?`,
};

for (const b of document.querySelectorAll('#detail .actions button')) {
  b.addEventListener('click', () =>
    guarded(async () => {
      if (!current) return;
      const { user, model } = current;
      const action = b.dataset.action;
      const seconds = Number(b.dataset.seconds || 0);
      if (!(await confirmAction(DESCRIBE[action](user, model, seconds)))) return;
      const path = `/extraction/users/${encodeURIComponent(user)}`;
      if (action === 'clear') await api(`${path}?model=${encodeURIComponent(model)}`, { method: 'DELETE' });
      else if (action === 'lift')
        await api(`${path}/override?model=${encodeURIComponent(model)}`, { method: 'DELETE' });
      else await api(`${path}/${action}`, { method: 'POST', body: { model, seconds } });
      await refresh();
      if (action === 'clear') {
        $('detail').hidden = true;
        current = null;
      } else await showAccount(user, model);
      $('action-result').textContent = `Done: ${action} ${user} on ${model}.`;
    }),
  );
}

// ---- audit log -------------------------------------------------------------------------------

async function loadAudit() {
  const a = await api('/operator/audit?limit=20');
  $('audit').replaceChildren(
    ...(a.entries.length
      ? a.entries.map((e) =>
          el(
            'li',
            {},
            `${when(e.at)} ${e.operator.id} ${e.action} ${e.user} on ${e.models.join(', ') || '—'}${e.until ? ` until ${when(e.until)}` : ''}`,
          ),
        )
      : [el('li', { class: 'muted' }, 'No operator action yet.')]),
  );
}

async function refresh() {
  await guarded(async () => {
    const m = await api('/extraction/models');
    $('models').replaceChildren(
      ...(m.models.length
        ? m.models.map(modelCard)
        : [el('p', { class: 'muted' }, 'Extraction detection is off for every model.')]),
    );
    await loadAccounts();
    await loadAudit();
  });
}

if (sessionStorage.getItem(TOKEN_KEY)) void signIn();
else showLogin();
