// The grid's web page: plain JavaScript, no dependencies.
'use strict';

const $ = (id) => document.getElementById(id);
const SVG = 'http://www.w3.org/2000/svg';
const HISTORY = 90; // grid samples kept for the latency plot (3 minutes at 2 s)
const COLORS = ['#4aa3ff', '#3ecf8e', '#f5b942', '#ff8c42', '#c77dff', '#2ec4b6', '#ff6392', '#a0c4ff'];

const state = { job: null, blobs: {}, samples: [], models: [] };

function key() { return $('key').value.trim(); }

// api calls the gateway with the API key; the key never goes in a URL.
function api(path, opts = {}) {
  const headers = Object.assign({ Authorization: 'Bearer ' + key() }, opts.headers || {});
  return fetch(path, Object.assign({}, opts, { headers }));
}

async function apiError(r) {
  try {
    const b = await r.json();
    const e = b.error || b;
    return (e.message || JSON.stringify(e)) + (e.param ? ' (' + e.param + ')' : '');
  } catch (_) {
    return r.status + ' ' + r.statusText;
  }
}

function el(tag, attrs = {}, text) {
  const e = tag.startsWith('svg:') ? document.createElementNS(SVG, tag.slice(4)) : document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) e.setAttribute(k, v);
  if (text !== undefined) e.textContent = text;
  return e;
}

function short(hotkey) { return hotkey.slice(0, 6) + '…' + hotkey.slice(-4); }

// ---- the models the grid serves ----

// loadModels fills the model picker from GET /v1/models (no key needed),
// the default model selected, and sets the other controls from it.
async function loadModels() {
  try {
    const r = await fetch('/v1/models');
    if (!r.ok) throw new Error(await apiError(r));
    state.models = (await r.json()).data;
  } catch (e) {
    $('error').textContent = 'models: ' + e.message;
    return;
  }
  const sel = $('model');
  sel.replaceChildren(...state.models.map((m) => el('option', { value: m.id }, m.id + (m.default ? ' (default)' : ''))));
  const def = state.models.find((m) => m.default) || state.models[0];
  if (def) sel.value = def.id;
  applyModel();
}

// rangeText says what a range allows, as the API's messages do.
function rangeText(r) {
  if (r.values && r.values.length) return r.values.join(', ');
  const step = r.step || 1;
  const top = r.min + Math.floor((r.max - r.min) / step) * step;
  return step === 1 ? r.min + '–' + r.max : r.min + '–' + top + ' in steps of ' + step;
}

// limitInput bounds a number input by a range and sets its default value.
function limitInput(input, r, value) {
  const vals = r.values && r.values.length ? r.values : null;
  input.min = vals ? Math.min(...vals) : r.min;
  input.max = vals ? Math.max(...vals) : r.max;
  input.step = vals ? 'any' : (r.step || 1);
  input.value = value;
  input.title = 'allowed: ' + rangeText(r);
}

// applyModel sets the size, frames and steps controls from the chosen model.
function applyModel() {
  const m = state.models.find((x) => x.id === $('model').value);
  if (!m) return;
  const l = m.limits;
  const size = $('size');
  size.replaceChildren(...m.sizes.map((s) => el('option', {}, s)));
  size.value = m.sizes[0];
  limitInput($('frames'), l.frames, l.default.frames);
  limitInput($('steps'), l.steps, l.default.steps);
  $('limits').textContent = m.id + ': frames ' + rangeText(l.frames) + ' at ' + l.default.fps + ' fps · width ' +
    rangeText(l.width) + ' · height ' + rangeText(l.height) + ' · steps ' + rangeText(l.steps) +
    (m.until_block ? ' · served until block ' + m.until_block : '');
}

// ---- making a video ----

async function submit(ev) {
  ev.preventDefault();
  $('error').textContent = '';
  const body = { prompt: $('prompt').value.trim(), model: $('model').value, size: $('size').value };
  if (!body.model) delete body.model;
  for (const f of ['seed', 'frames', 'steps']) {
    const v = $(f).value.trim();
    if (v !== '') body[f] = Number(v);
  }
  $('go').disabled = true;
  try {
    const r = await api('/v1/videos', { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify(body) });
    if (!r.ok) throw new Error(await apiError(r));
    const v = await r.json();
    follow(v);
    loadHistory();
  } catch (e) {
    $('error').textContent = e.message;
  } finally {
    $('go').disabled = false;
  }
}

// follow shows a job and keeps it current from the SSE stream, read with
// fetch so the key travels in a header; polling takes over if it breaks.
async function follow(v) {
  state.job = v.id;
  state.blobs = {};
  $('video').hidden = true;
  $('downloads').hidden = true;
  show(v);
  if (terminal(v.status)) return;
  try {
    const r = await api('/v1/videos/' + v.id + '/events', { headers: { Accept: 'text/event-stream' } });
    if (!r.ok || !r.body) throw new Error(await apiError(r));
    const reader = r.body.pipeThrough(new TextDecoderStream()).getReader();
    let buf = '';
    for (;;) {
      const { value, done } = await reader.read();
      if (done) break;
      buf += value;
      let i;
      while ((i = buf.indexOf('\n\n')) >= 0) {
        const msg = parseEvent(buf.slice(0, i));
        buf = buf.slice(i + 2);
        if (msg && msg.event === 'video') {
          const cur = JSON.parse(msg.data);
          if (state.job !== cur.id) { reader.cancel(); return; }
          show(cur);
          if (terminal(cur.status)) { reader.cancel(); return; }
        }
      }
    }
  } catch (e) {
    console.warn('event stream:', e.message);
  }
  poll(v.id);
}

function parseEvent(block) {
  const msg = { event: 'message', data: '' };
  for (const line of block.split('\n')) {
    if (line.startsWith(':')) continue;
    const [field, ...rest] = line.split(':');
    const value = rest.join(':').replace(/^ /, '');
    if (field === 'event') msg.event = value;
    else if (field === 'data') msg.data += value;
  }
  return msg.data ? msg : null;
}

async function poll(id) {
  while (state.job === id) {
    const r = await api('/v1/videos/' + id);
    if (r.ok) {
      const v = await r.json();
      show(v);
      if (terminal(v.status)) return;
    }
    await new Promise((res) => setTimeout(res, 700));
  }
}

async function cancel() {
  if (!state.job) return;
  const r = await api('/v1/videos/' + state.job + '/cancel', { method: 'POST' });
  if (r.ok) show(await r.json());
  else $('error').textContent = await apiError(r);
}

function terminal(s) { return s === 'completed' || s === 'failed' || s === 'cancelled'; }

function show(v) {
  $('job').hidden = false;
  $('job-id').textContent = v.id;
  const st = $('job-status');
  st.textContent = v.status.replace('_', ' ');
  st.className = 'status ' + v.status;
  $('cancel').hidden = terminal(v.status);
  $('bar').style.width = (v.status === 'completed' ? 100 : v.progress) + '%';
  const parts = [v.model + ': ' + v.size + ', ' + v.frames + ' frames @ ' + v.fps + ' fps, ' + v.steps + ' steps, seed ' + v.seed];
  if (v.miner) parts.push('miner uid ' + v.miner.uid);
  if (v.timings) parts.push('total ' + (v.timings.total_ms / 1000).toFixed(2) + ' s (generate ' + (v.timings.generate_ms / 1000).toFixed(2) + ' s)');
  if (v.attempts > 1) parts.push(v.attempts + ' attempts');
  if (v.error) parts.push((v.error.code === 'cancelled' ? 'cancelled: ' : 'error: ') + v.error.message);
  $('job-detail').textContent = parts.join(' · ');
  if (v.status === 'completed' && !state.blobs.mp4) play(v);
}

async function content(id, variant) {
  if (state.blobs[variant]) return state.blobs[variant];
  const r = await api('/v1/videos/' + id + '/content?variant=' + variant);
  if (!r.ok) throw new Error(await apiError(r));
  const url = URL.createObjectURL(await r.blob());
  state.blobs[variant] = url;
  return url;
}

async function play(v) {
  try {
    const url = await content(v.id, 'mp4');
    if (state.job !== v.id) return;
    const video = $('video');
    video.src = url;
    video.hidden = false;
    $('downloads').hidden = false;
    await video.play().catch(() => {});
    loadHistory();
  } catch (e) {
    $('error').textContent = 'video: ' + e.message;
  }
}

async function download(ev) {
  const a = ev.target.closest('a[data-variant]');
  if (!a) return;
  ev.preventDefault();
  const variant = a.dataset.variant;
  try {
    const url = await content(state.job, variant);
    const link = el('a', { href: url, download: state.job + '.' + (variant === 'frames' ? 'frames' : variant) });
    document.body.append(link);
    link.click();
    link.remove();
  } catch (e) {
    $('error').textContent = variant + ': ' + e.message;
  }
}

async function loadHistory() {
  if (!key()) return;
  const r = await api('/v1/videos?limit=20');
  if (!r.ok) return;
  const list = await r.json();
  const ul = $('history');
  ul.replaceChildren();
  for (const v of list.data) {
    const li = el('li', { 'data-id': v.id });
    li.append(el('span', { class: 'status ' + v.status }, v.status.replace('_', ' ')), el('span', { class: 'p' }, v.prompt), el('code', {}, v.size));
    li.addEventListener('click', () => follow(v));
    ul.append(li);
  }
  if (!list.data.length) ul.append(el('li', { class: 'muted' }, 'none yet'));
}

// ---- the grid map ----

async function pollGrid() {
  try {
    const r = await fetch('/v1/grid');
    if (!r.ok) return;
    const g = await r.json();
    state.samples.push({ at: Date.now(), miners: g.miners });
    if (state.samples.length > HISTORY) state.samples.shift();
    $('chain').textContent = 'block ' + g.block;
    const eligible = g.miners.filter((m) => m.eligible).length;
    $('grid-summary').textContent = g.miners.length + ' miners, ' + eligible + ' taking jobs';
    drawMap(g.miners);
    drawTable(g.miners);
    drawPlot();
  } catch (e) {
    console.warn('grid:', e.message);
  }
}

function colorOf(m) {
  if (m.breaker === 'open') return '#ff5d5d';
  if (!m.verified) return '#6b7080';
  return m.tier >= 2 ? '#f5b942' : m.tier === 1 ? '#3ecf8e' : '#4aa3ff';
}

// layout places the miners by their network coordinates (fitting them and
// the origin, where the gateway starts, into the picture) when they are
// spread out enough to see, else on a ring at a distance given by probe RTT.
// It returns the miners' positions and the gateway's.
function layout(miners, w, h) {
  const m = 46;
  const xy = miners.map((x) => x.xy || null);
  if (miners.length && xy.every(Boolean)) {
    const pts = xy.concat([[0, 0]]);
    const xs = pts.map((p) => p[0]), ys = pts.map((p) => p[1]);
    const [x0, x1, y0, y1] = [Math.min(...xs), Math.max(...xs), Math.min(...ys), Math.max(...ys)];
    const span = Math.max(x1 - x0, y1 - y0);
    if (span > 1e-7) {
      const k = Math.min(w - 2 * m, h - 2 * m) / span;
      const ox = (w - k * (x1 - x0)) / 2, oy = (h - k * (y1 - y0)) / 2;
      const at = ([x, y]) => [ox + k * (x - x0), oy + k * (y - y0)];
      return { pos: xy.map(at), self: at([0, 0]) };
    }
  }
  const cx = w / 2, cy = h / 2, R = Math.min(w, h) / 2 - m;
  const maxRTT = Math.max(1e-4, ...miners.map((x) => x.rtt_s || 0));
  const pos = miners.map((x, i) => {
    const a = (2 * Math.PI * i) / miners.length - Math.PI / 2;
    const d = R * (0.45 + 0.55 * ((x.rtt_s || 0) / maxRTT));
    return [cx + d * Math.cos(a), cy + d * Math.sin(a)];
  });
  return { pos, self: [cx, cy] };
}

function drawMap(miners) {
  const svg = $('map');
  const [w, h] = [600, 360];
  svg.replaceChildren();
  const { pos, self } = layout(miners, w, h);
  miners.forEach((m, i) => svg.append(el('svg:line', { x1: self[0], y1: self[1], x2: pos[i][0], y2: pos[i][1] })));
  svg.append(el('svg:circle', { class: 'self', cx: self[0], cy: self[1], r: 7 }));
  svg.append(el('svg:text', { x: self[0] + 10, y: self[1] + 4 }, 'gateway'));
  miners.forEach((m, i) => {
    const [x, y] = pos[i];
    const r = 9 + 17 * Math.max(0, Math.min(1, m.score || 0));
    const busy = m.outstanding + m.queue > 0;
    const c = el('svg:circle', { class: 'miner' + (busy ? ' busy' : ''), cx: x, cy: y, r, fill: colorOf(m), 'data-hotkey': m.hotkey });
    c.append(el('svg:title', {}, 'uid ' + m.uid + ' ' + m.hotkey + '\ntier ' + m.tier + ', score ' + (m.score || 0).toFixed(2) +
      ', queue ' + m.queue + ', RTT ' + ((m.rtt_s || 0) * 1000).toFixed(2) + ' ms'));
    svg.append(c);
    svg.append(el('svg:text', { x: x + r + 4, y: y + 4 }, 'uid ' + m.uid));
  });
  if (!miners.length) svg.append(el('svg:text', { x: 20, y: 30 }, 'no miners on the map yet'));
}

function drawTable(miners) {
  const tb = $('miners').tBodies[0];
  tb.replaceChildren();
  for (const m of miners) {
    const tr = el('tr', { 'data-hotkey': m.hotkey });
    const hk = el('td');
    hk.append(el('i', { class: 'dot' }), el('code', { title: m.hotkey }, short(m.hotkey)));
    hk.firstChild.style.background = colorOf(m);
    const cells = [m.uid, hk, m.verified ? m.tier : '–', (m.score || 0).toFixed(2), ((m.success || 0) * 100).toFixed(0) + '%',
      m.service_samples ? m.service_s.toFixed(2) : '–', m.queue + m.outstanding, ((m.rtt_s || 0) * 1000).toFixed(2),
      m.predicted_s ? m.predicted_s.toFixed(2) : '–', (m.incentive || 0).toFixed(3), (m.stake_tao || 0).toFixed(0)];
    for (const c of cells) tr.append(c instanceof Node ? c : el('td', {}, String(c)));
    tb.append(tr);
  }
}

function metricOf(m, which) {
  if (which === 'rtt') return (m.rtt_s || 0) * 1000;
  if (which === 'queue') return m.queue + m.outstanding;
  return m.predicted_s || 0;
}

function drawPlot() {
  const svg = $('plot');
  const [w, h, pad] = [600, 160, 28];
  const which = $('metric').value;
  svg.replaceChildren();
  const series = new Map();
  state.samples.forEach((s, i) => {
    for (const m of s.miners) {
      if (!series.has(m.hotkey)) series.set(m.hotkey, { uid: m.uid, pts: [] });
      series.get(m.hotkey).pts.push([i, metricOf(m, which)]);
    }
  });
  let max = 0;
  for (const s of series.values()) for (const [, v] of s.pts) max = Math.max(max, v);
  max = max > 0 ? max * 1.1 : 1;
  const n = state.samples.length;
  const X = (i) => pad + ((w - 2 * pad) * i) / Math.max(1, n - 1);
  const Y = (v) => h - pad + 8 - ((h - pad) * v) / max;
  svg.append(el('svg:line', { x1: pad, y1: Y(0), x2: w - pad, y2: Y(0), stroke: '#2a2f3d' }));
  svg.append(el('svg:text', { x: 2, y: 14 }, max.toFixed(max < 10 ? 2 : 0)));
  svg.append(el('svg:text', { x: 2, y: Y(0) }, '0'));
  if (n > 1) {
    const secs = Math.round((state.samples[n - 1].at - state.samples[0].at) / 1000);
    svg.append(el('svg:text', { x: pad, y: h - 4 }, '−' + secs + ' s'));
    svg.append(el('svg:text', { x: w - pad - 20, y: h - 4 }, 'now'));
  }
  let k = 0;
  for (const [hotkey, s] of series) {
    const color = COLORS[k++ % COLORS.length];
    const d = s.pts.map(([i, v], j) => (j ? 'L' : 'M') + X(i).toFixed(1) + ' ' + Y(v).toFixed(1)).join(' ');
    svg.append(el('svg:path', { d, fill: 'none', stroke: color, 'stroke-width': 1.8, 'data-hotkey': hotkey }));
    const last = s.pts[s.pts.length - 1];
    svg.append(el('svg:text', { x: Math.min(X(last[0]) + 4, w - 30), y: Y(last[1]) - 3, fill: color }, 'uid ' + s.uid));
  }
}

// ---- start ----

async function start() {
  $('form').addEventListener('submit', submit);
  $('downloads').addEventListener('click', download);
  $('cancel').addEventListener('click', cancel);
  $('metric').addEventListener('change', drawPlot);
  $('key').addEventListener('change', loadHistory);
  $('model').addEventListener('change', applyModel);
  try {
    const r = await fetch('/v1/local/key');
    if (r.ok && !key()) $('key').value = (await r.json()).key;
  } catch (_) { /* not a local grid: the user pastes a key */ }
  await loadModels();
  document.body.dataset.ready = 'true';
  loadHistory();
  pollGrid();
  setInterval(pollGrid, 2000);
}

start();
