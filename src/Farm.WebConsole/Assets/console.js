// Farm web console: renders the documents of /console/events (server-sent events, one per change of the node's
// status): { status: <as farmctl status --json, docs/cli.md>, tables: [{ module, buckets, owners, incoming, draining }] }.
// No framework, no other origin: everything this page needs ships with farmd.
'use strict';

const palette = ['#1f77b4', '#ff7f0e', '#2ca02c', '#d62728', '#9467bd', '#8c564b', '#e377c2', '#17becf', '#bcbd22', '#7f7f7f'];
const colourOf = i => (i < 0 ? '#e8e8e4' : palette[i % palette.length]);
const $ = id => document.getElementById(id);
let last = null;
let session = { login: false, role: 'viewer', user: null, csrf: null }; // from /console/session
const actionCells = new Map(); // node or module name -> its actions cell, kept across renders (typed weights survive)
const changedAt = new Map(); // "module/bucket" -> time its owner last changed, for the outline

function el(tag, attrs, ...children) {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (k === 'class') e.className = v; else e.setAttribute(k, v);
  }
  for (const c of children) e.append(c instanceof Node ? c : document.createTextNode(String(c)));
  return e;
}

const badge = (text, cls) => el('span', { class: 'badge ' + (cls || text) }, text);

function renderNodes(doc) {
  const body = $('nodes').tBodies[0];
  body.replaceChildren();
  doc.nodes.forEach((n, i) => {
    const share = n.modules.map(m => `${m.module}: ${m.buckets} (${m.share_percent}%)`).join(', ');
    const lans = n.self ? 'this node' : n.lans.map(l =>
      `${l.lan} ${l.reachable ? 'ok' : 'lost'}` + (l.last_heard_ms !== null ? ` (${l.last_heard_ms} ms ago)` : '')).join('; ');
    const name = el('td', {}, el('span', { class: 'swatch' }), n.name + (n.self ? ' (this node)' : ''));
    name.firstChild.style.background = colourOf(i);
    const row = el('tr', { 'data-node': n.name }, name, el('td', {}, badge(n.state)), el('td', {}, n.in_view ? 'yes' : 'no'), el('td', {}, n.weight),
      el('td', {}, share), el('td', {}, n.drain_state === 'none' ? '' : badge(n.drain_state)), el('td', {}, lans));
    if (isOperator()) row.append(nodeActions(n));
    body.append(row);
  });
}

function renderTables(doc, tables) {
  const host = $('tables');
  const now = performance.now();
  for (const t of tables) {
    let box = host.querySelector(`[data-module="${CSS.escape(t.module)}"]`);
    const columns = t.buckets <= 256 ? 16 : 64;
    const rows = Math.ceil(t.buckets / columns);
    const cell = t.buckets <= 256 ? 14 : 7;
    if (!box) {
      box = el('div', { class: 'table', 'data-module': t.module }, el('h3', {}, t.module), el('canvas', { width: columns * cell, height: rows * cell }), el('div', { class: 'legend' }));
      host.append(box);
    }
    const previous = last && last.tables.find(p => p.module === t.module);
    const previousName = i => (previous && i >= 0 && last.status.nodes[i] ? last.status.nodes[i].name : null);
    for (let b = 0; b < t.buckets; b++) {
      const before = previous ? previousName(previous.owners[b]) : null;
      const after = t.owners[b] >= 0 ? doc.nodes[t.owners[b]].name : null;
      if (previous && before !== after) changedAt.set(t.module + '/' + b, now);
    }
    box.dataset.owners = JSON.stringify(t.owners);
    box.dataset.incoming = JSON.stringify(t.incoming);
    box.dataset.draining = JSON.stringify(t.draining);
    box.dataset.columns = columns;
    box.dataset.cell = cell;
    const counts = new Map();
    t.owners.forEach(o => counts.set(o, (counts.get(o) || 0) + 1));
    const legend = box.querySelector('.legend');
    legend.replaceChildren(...[...counts.entries()].sort((a, b) => a[0] - b[0]).map(([o, c]) => {
      const s = el('span', {}, el('span', { class: 'swatch' }), `${o < 0 ? 'no owner' : doc.nodes[o].name}: ${c}`);
      s.firstChild.style.background = colourOf(o);
      return s;
    }));
  }
}

// Draws every map each frame while some cell's outline is fading (moves animate for 1.5 s).
function draw() {
  const now = performance.now();
  for (const box of document.querySelectorAll('.table[data-owners]')) {
    const owners = JSON.parse(box.dataset.owners);
    const incoming = new Set(JSON.parse(box.dataset.incoming));
    const draining = new Set(JSON.parse(box.dataset.draining));
    const columns = +box.dataset.columns, cell = +box.dataset.cell, module = box.dataset.module;
    const ctx = box.querySelector('canvas').getContext('2d');
    for (let b = 0; b < owners.length; b++) {
      const x = (b % columns) * cell, y = Math.floor(b / columns) * cell;
      ctx.fillStyle = colourOf(owners[b]);
      ctx.fillRect(x, y, cell - 1, cell - 1);
      if (draining.has(b) || incoming.has(b)) {
        ctx.fillStyle = '#000';
        const inset = Math.max(1, Math.floor(cell / 4));
        if (draining.has(b)) ctx.fillRect(x + inset, y + inset, cell - 1 - 2 * inset, cell - 1 - 2 * inset);
        else { ctx.fillRect(x, y + inset, cell - 1, 1); ctx.fillRect(x + inset, y, 1, cell - 1); }
      }
      const since = changedAt.get(module + '/' + b);
      if (since !== undefined) {
        const age = now - since;
        if (age > 1500) { changedAt.delete(module + '/' + b); continue; }
        ctx.strokeStyle = `rgba(0,0,0,${1 - age / 1500})`;
        ctx.strokeRect(x + 0.5, y + 0.5, cell - 2, cell - 2);
      }
    }
  }
  if (changedAt.size > 0) requestAnimationFrame(draw);
}

function renderModules(doc, logs) {
  $('self').textContent = doc.node;
  const body = $('modules').tBodies[0];
  body.replaceChildren();
  for (const m of doc.module_states) {
    const checkers = el('td', {}, ...m.checkers.map(c =>
      el('span', { class: 'checker' }, badge(c.up === null ? 'unknown' : c.up ? 'up' : 'down'), ` ${c.name} (${c.type}, ${c.action})${c.detail ? ': ' + c.detail : ''}`)));
    body.append(el('tr', {},
      el('td', {}, `${m.module} (${m.mode})`),
      el('td', {}, badge(m.state), ' ', m.sub_state + (m.primary ? ', primary' : '')),
      el('td', {}, m.reason + (m.step ? ` [${m.step}]` : '')),
      el('td', {}, m.traffic_open ? 'open' : 'closed'),
      el('td', {}, `${m.recovery_count}/${m.max_loop}`),
      el('td', {}, m.data_plane),
      checkers,
      ...(isOperator() ? [moduleActions(m.module, doc.node, doc.nodes.map(n => n.name))] : [])));
    const lines = (logs || {})[m.module] || [];
    const tail = el('pre', { class: 'log' }, lines.map(l => `${new Date(l.time).toLocaleTimeString()} ${l.level.padEnd(11)} ${l.text}`).join('\n') || '(no log lines yet)');
    body.append(el('tr', { class: 'log-row' }, el('td', { colspan: 8 }, el('div', { class: 'hint' }, `last ${lines.length} lines of ${m.module}'s log on ${doc.node} (farmctl logs ${m.module})`), tail)));
  }
}

function note(text) {
  const list = $('timeline');
  list.prepend(el('li', {}, el('time', {}, new Date().toLocaleTimeString()), text));
  while (list.children.length > 200) list.lastChild.remove();
}

// Compares two documents and writes what changed to the timeline: views, node states, drains, weights, modules.
function timeline(before, doc) {
  if (!before) { note(`connected to ${doc.node}: view ${doc.epoch} by ${doc.coordinator || 'nobody yet'}`); return; }
  if (doc.epoch !== before.epoch) note(`view ${before.epoch} → ${doc.epoch} (coordinator ${doc.coordinator})`);
  if (doc.config_version !== before.config_version) note(`cluster file version ${before.config_version} → ${doc.config_version}`);
  for (const n of doc.nodes) {
    const p = before.nodes.find(x => x.name === n.name);
    if (!p) continue;
    if (p.state !== n.state) note(`${n.name}: ${p.state} → ${n.state}` + (n.state === 'down' ? ' (failover: its buckets go to the others)' : ''));
    if (p.drain_state !== n.drain_state) note(`${n.name}: drain ${p.drain_state} → ${n.drain_state}`);
    if (p.weight !== n.weight) note(`${n.name}: weight ${p.weight} → ${n.weight}`);
    if (p.in_view !== n.in_view) note(`${n.name} ${n.in_view ? 'joined' : 'left'} the view` + failoverTime(p, n));
  }
  for (const m of doc.module_states) {
    const p = before.module_states.find(x => x.module === m.module);
    if (p && (p.state !== m.state || p.sub_state !== m.sub_state)) note(`${m.module} on ${doc.node}: ${p.state}/${p.sub_state} → ${m.state}/${m.sub_state}: ${m.reason}`);
  }
}

// A node that dropped out of the view without leaving (it went down): how long after its last message the view without it
// was installed, as this node saw it (the status is pushed at most every 100 ms, so this includes up to that much).
function failoverTime(before, now) {
  if (now.in_view || now.state !== 'down' || before.drain_state === 'drained') return '';
  const ages = now.lans.map(l => l.last_heard_ms).filter(a => a !== null && a !== undefined);
  return ages.length ? ` (failover: ${Math.min(...ages)} ms after its last message)` : '';
}

function render(feed) {
  const doc = feed.status;
  $('cluster').textContent = doc.cluster;
  const up = doc.nodes.filter(n => n.state === 'up').length;
  $('summary').textContent = `node ${doc.node} · view ${doc.epoch} by ${doc.coordinator || '—'} · ${up}/${doc.nodes.length} nodes up · cluster file version ${doc.config_version}` + (doc.leaving ? ' · this node is leaving' : '');
  timeline(last && last.status, doc);
  renderNodes(doc);
  renderTables(doc, feed.tables);
  renderModules(doc, feed.logs);
  last = feed;
  requestAnimationFrame(draw);
}

// Actions (operators only; the server checks the role and the antiforgery token of every one).
const isOperator = () => session.role === 'operator';

function button(label, attrs, run) {
  const b = el('button', Object.assign({ type: 'button' }, attrs), label);
  b.addEventListener('click', run);
  return b;
}

function nodeActions(n) {
  let cell = actionCells.get('node/' + n.name);
  if (!cell) {
    const weight = el('input', { type: 'number', min: '0', max: '1000', class: 'weight', 'aria-label': `new weight of ${n.name}`, 'data-weight': n.name });
    cell = el('td', { class: 'actions' },
      button('drain', { 'data-action': 'drain', 'data-node': n.name }, () => act('drain', { node: n.name })),
      button('resume', { 'data-action': 'resume', 'data-node': n.name }, () => act('resume', { node: n.name })),
      weight,
      button('set weight', { 'data-action': 'weight', 'data-node': n.name }, () => act('weight', { node: n.name, weight: weight.value })));
    actionCells.set('node/' + n.name, cell);
  }
  return cell;
}

function moduleActions(module, self, nodes) {
  let cell = actionCells.get('module/' + module);
  if (!cell) {
    const where = el('select', { 'aria-label': `nodes for ${module}`, 'data-module': module },
      el('option', { value: self }, `this node (${self})`), el('option', { value: '*' }, 'all nodes'), ...nodes.filter(n => n !== self).map(n => el('option', { value: n }, n)));
    cell = el('td', { class: 'actions' }, where,
      ...['start', 'stop', 'restart'].map(a => button(a, { 'data-action': a, 'data-module': module }, () => act('module', { module, action: a, node: where.value }))));
    actionCells.set('module/' + module, cell);
  }
  return cell;
}

async function act(action, fields) {
  const outcome = $('outcome');
  outcome.textContent = `${action} ${Object.values(fields).join(' ')}…`;
  try {
    const answer = await fetch('/console/actions/' + action, {
      method: 'POST',
      headers: { 'Content-Type': 'application/x-www-form-urlencoded', 'X-Farm-Csrf': session.csrf },
      body: new URLSearchParams(fields),
      credentials: 'same-origin',
    });
    if (answer.status === 401) { location.assign('/console/login'); return; }
    const text = (await answer.text()).trim();
    outcome.textContent = (answer.ok ? '' : answer.status === 403 ? 'refused, operators only (403): ' : `not done everywhere (${answer.status}): `) + text;
    outcome.className = answer.ok ? 'hint done' : 'hint error';
    note(`${action} by ${session.user}: ${text}`);
  } catch (e) {
    outcome.textContent = `${action} failed: ${e}`;
    outcome.className = 'hint error';
  }
}

async function logout() {
  await fetch('/console/logout', { method: 'POST', headers: { 'X-Farm-Csrf': session.csrf }, credentials: 'same-origin' });
  location.assign('/console/login');
}

async function loadSession() {
  const answer = await fetch('/console/session', { credentials: 'same-origin' });
  if (answer.status === 401) { location.assign('/console/login'); return false; }
  session = await answer.json();
  document.body.classList.toggle('can-act', isOperator());
  if (session.login) {
    $('account').replaceChildren(el('span', { id: 'who' }, `${session.user} (${session.role})`), ' ', button('log out', { id: 'logout' }, logout));
  }
  return true;
}

function connect() {
  const source = new EventSource('/console/events');
  source.addEventListener('status', e => {
    $('connection').textContent = 'live';
    $('connection').className = 'badge up';
    render(JSON.parse(e.data));
  });
  source.onerror = () => {
    $('connection').textContent = 'reconnecting';
    $('connection').className = 'badge down';
    if (session.login) loadSession(); // the session may have ended: back to the login form
  };
}

loadSession().then(ok => { if (ok) connect(); });
