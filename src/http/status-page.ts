import { createHash } from 'node:crypto';

/*
 * The status page served on GET /: plain HTML with its CSS and script inline, no build step and nothing fetched from
 * elsewhere (the page must work on a closed network). The script polls this node's /cluster/stats (every member's
 * /stats, gathered server-side) and /metrics, and drives the get/set/delete form through /rpc. Every value it
 * shows goes in through textContent, never as markup.
 */

const STYLE = `
:root {
  --fg: #1d2330; --muted: #667085; --line: #e4e7ec; --bg: #f6f7f9; --card: #fff; --accent: #2e5aac;
  --ok-bg: #e3f4ea; --ok-fg: #17663a; --warn-bg: #fff3d6; --warn-fg: #8a5a00; --bad-bg: #fde7e7; --bad-fg: #a11d1d;
  font-family: system-ui, -apple-system, "Segoe UI", Roboto, "Helvetica Neue", Arial, sans-serif;
  font-size: 14px; color: var(--fg); background: var(--bg);
}
* { box-sizing: border-box; }
body { margin: 0; }
header { display: flex; align-items: center; justify-content: space-between; gap: 16px; flex-wrap: wrap;
  padding: 14px 28px; background: var(--card); border-bottom: 1px solid var(--line); }
header h1 { font-size: 20px; margin: 0; letter-spacing: 0.2px; }
.brand { display: flex; align-items: baseline; gap: 10px; }
.header-status { display: flex; align-items: center; gap: 14px; }
main { max-width: 1180px; margin: 0 auto; padding: 20px 28px 8px; }
section { margin-bottom: 22px; }
h2 { font-size: 13px; text-transform: uppercase; letter-spacing: 0.6px; color: var(--muted); margin: 0 0 8px; font-weight: 600; }
.panel { background: var(--card); border: 1px solid var(--line); border-radius: 8px; overflow: hidden; }
table { width: 100%; border-collapse: collapse; }
th, td { text-align: left; padding: 8px 12px; border-bottom: 1px solid var(--line); white-space: nowrap; }
th { font-size: 12px; color: var(--muted); font-weight: 600; background: #fafbfc; }
tbody tr:last-child td { border-bottom: 0; }
td.num, th.num { text-align: right; font-variant-numeric: tabular-nums; }
td.empty { color: var(--muted); text-align: center; padding: 14px; }
td.lagging { color: var(--warn-fg); font-weight: 600; }
.muted { color: var(--muted); }
.small { font-size: 12px; }
.pill { display: inline-block; padding: 2px 9px; border-radius: 999px; font-size: 12px; font-weight: 600;
  background: var(--line); color: var(--fg); }
.pill.ok { background: var(--ok-bg); color: var(--ok-fg); }
.pill.warn { background: var(--warn-bg); color: var(--warn-fg); }
.pill.bad { background: var(--bad-bg); color: var(--bad-fg); }
.tag { margin-left: 8px; font-size: 11px; color: var(--accent); border: 1px solid #c9d6f0; border-radius: 4px; padding: 0 5px; }
.why { margin-left: 8px; }
a { color: var(--accent); text-decoration: none; }
a:hover { text-decoration: underline; }
.cards { display: grid; grid-template-columns: repeat(4, minmax(0, 1fr)); gap: 14px; }
.card { background: var(--card); border: 1px solid var(--line); border-radius: 8px; padding: 14px 16px; }
.card .label { font-size: 12px; color: var(--muted); font-weight: 600; }
.card .big { font-size: 26px; font-weight: 600; margin: 4px 0 2px; font-variant-numeric: tabular-nums; }
.two { display: grid; grid-template-columns: 1fr 1fr; gap: 14px; }
.banner { max-width: 1180px; margin: 14px auto 0; padding: 10px 14px; border-radius: 8px; background: var(--bad-bg); color: var(--bad-fg); }
form { display: flex; align-items: flex-end; gap: 12px; flex-wrap: wrap; padding: 14px 16px; }
label { display: flex; flex-direction: column; gap: 4px; font-size: 12px; color: var(--muted); font-weight: 600; }
input { font: inherit; padding: 7px 10px; border: 1px solid #cfd4dc; border-radius: 6px; min-width: 240px; color: var(--fg); }
input:focus { outline: 2px solid #b7c8ea; border-color: var(--accent); }
button { font: inherit; font-weight: 600; padding: 7px 16px; border-radius: 6px; border: 1px solid var(--accent);
  background: var(--accent); color: #fff; cursor: pointer; }
button.secondary { background: #fff; color: var(--accent); }
button.danger { background: #fff; color: var(--bad-fg); border-color: #e7b4b4; }
button:disabled { opacity: 0.55; cursor: default; }
.result { border-top: 1px solid var(--line); padding: 12px 16px; }
.result .code { font-family: ui-monospace, SFMono-Regular, Menlo, Consolas, monospace; font-weight: 700; margin-right: 8px; }
.result.error .code { color: var(--bad-fg); }
.result.success .code { color: var(--ok-fg); }
.result pre { margin: 8px 0 4px; padding: 8px 10px; background: var(--bg); border-radius: 6px; white-space: pre-wrap;
  word-break: break-all; font-family: ui-monospace, SFMono-Regular, Menlo, Consolas, monospace; max-height: 240px; overflow: auto; }
footer { max-width: 1180px; margin: 0 auto; padding: 4px 28px 24px; font-size: 12px; }
@media (max-width: 900px) { .cards { grid-template-columns: repeat(2, minmax(0, 1fr)); } .two { grid-template-columns: 1fr; } }
`;

const SCRIPT = `
(function () {
  'use strict';
  var REFRESH_MS = 2000;
  var integer = new Intl.NumberFormat('en-US');
  var decimal = new Intl.NumberFormat('en-US', { minimumFractionDigits: 1, maximumFractionDigits: 1 });
  var previousCounts = null;

  function byId(id) { return document.getElementById(id); }
  function el(tag, className, text) {
    var node = document.createElement(tag);
    if (className) node.className = className;
    if (text !== undefined && text !== null) node.textContent = String(text);
    return node;
  }
  function num(value) { return typeof value === 'number' && isFinite(value) ? integer.format(value) : '\\u2014'; }
  function rate(value) { return typeof value === 'number' && isFinite(value) ? decimal.format(value) : '\\u2014'; }
  function ratio(hits, misses) {
    var reads = (hits || 0) + (misses || 0);
    return reads > 0 ? decimal.format((100 * (hits || 0)) / reads) + '%' : '\\u2014';
  }
  function bytes(value) {
    if (typeof value !== 'number') return '';
    var units = ['B', 'KiB', 'MiB', 'GiB'];
    var i = 0;
    while (value >= 1024 && i < units.length - 1) { value /= 1024; i++; }
    return (i === 0 ? integer.format(value) : decimal.format(value)) + ' ' + units[i];
  }
  function since(iso) {
    var started = Date.parse(iso);
    if (!isFinite(started)) return '\\u2014';
    var s = Math.max(0, Math.round((Date.now() - started) / 1000));
    if (s < 60) return s + ' s';
    if (s < 3600) return Math.floor(s / 60) + ' min';
    if (s < 86400) return Math.floor(s / 3600) + ' h ' + Math.floor((s % 3600) / 60) + ' min';
    return Math.floor(s / 86400) + ' d ' + Math.floor((s % 86400) / 3600) + ' h';
  }
  function totalLag(stats) {
    if (!stats || !Array.isArray(stats.partitions)) return undefined;
    return stats.partitions.reduce(function (sum, p) { return sum + (typeof p.lag === 'number' ? p.lag : 0); }, 0);
  }
  function pill(text, kind) { return el('span', 'pill ' + kind, text); }
  // Not ready: why, as the node's readiness says it (a failed apply path, deletes it may have missed, loading...).
  function readyPill(s) {
    if (s.ready) return pill('ready', 'ok');
    var failed = s.status === 'failed' || (s.apply && s.apply.failure);
    var missed = s.deletes && s.deletes.maybeMissed && s.deletes.maybeMissed.length > 0;
    var text = s.apply && s.apply.failure ? 'apply failed' : missed ? 'may miss deletes' : String(s.status || 'not ready');
    var p = pill(text, failed || missed ? 'bad' : 'warn');
    if (s.reason) p.title = String(s.reason);
    return p;
  }
  function readiness(member) {
    if (!member.reachable) return pill('unreachable', 'bad');
    return readyPill(member.stats || {});
  }
  function row(cells) {
    var tr = document.createElement('tr');
    cells.forEach(function (c) { tr.appendChild(c); });
    return tr;
  }
  function td(content, className) {
    var cell = el('td', className);
    if (content instanceof Node) cell.appendChild(content); else cell.textContent = content === undefined ? '' : String(content);
    return cell;
  }
  function emptyRow(columns, text) {
    var cell = el('td', 'empty', text);
    cell.colSpan = columns;
    return row([cell]);
  }

  function renderMembers(members) {
    var body = byId('members-body');
    var rows = members.map(function (m) {
      var name = el('td');
      name.appendChild(el('strong', '', m.name));
      if (m.self) name.appendChild(el('span', 'tag', 'this node'));
      var address = el('td');
      if (/^https?:\\/\\//.test(m.httpUrl)) {
        var link = el('a', '', m.httpUrl);
        link.href = m.httpUrl + '/';
        address.appendChild(link);
      } else address.textContent = m.httpUrl;
      var state = el('td');
      state.appendChild(readiness(m));
      if (!m.reachable) state.appendChild(el('span', 'why muted small', m.error));
      var s = m.reachable ? m.stats : {};
      var tr = row([name, address, state, td(num(s.entries), 'num'), td(num(totalLag(s)), 'num'),
        td(m.reachable ? ratio(s.hits, s.misses) : '\\u2014', 'num'), td(m.version || ''), td(since(m.startedAt))]);
      tr.dataset.member = m.name;
      tr.dataset.reachable = String(m.reachable);
      return tr;
    });
    body.replaceChildren.apply(body, rows.length ? rows : [emptyRow(8, 'No members known yet.')]);
    byId('member-count').textContent = '(' + members.length + ')';
  }

  function renderSelf(self) {
    var s = self && self.reachable ? self.stats : null;
    if (!s) return;
    byId('node-name').textContent = s.node || self.name;
    document.title = 'Bitacora \\u00b7 ' + (s.node || self.name);
    var status = byId('node-status');
    status.replaceChildren(readyPill(s));
    var zk = s.cluster || {};
    byId('zk-status').textContent = 'ZooKeeper ' + (zk.zookeeper || 'unknown') + (zk.registered ? ', registered' : ', not registered');
    byId('hit-ratio').textContent = ratio(s.hits, s.misses);
    byId('hit-detail').textContent = num(s.hits) + ' hits, ' + num(s.misses) + ' misses since start';
    byId('entries').textContent = num(s.entries);
    byId('bytes').textContent = bytes(s.approximateBytes) + ' held; ' + num(s.recordsApplied) + ' records applied';
    byId('lag').textContent = num(totalLag(s));
    var partitions = Array.isArray(s.partitions) ? s.partitions : [];
    var body = byId('partitions-body');
    var rows = partitions.map(function (p) {
      var lag = td(num(p.lag), 'num');
      if (p.lag > 0) lag.classList.add('lagging');
      return row([td(p.partition), td(num(p.position), 'num'), td(num(p.end), 'num'), lag]);
    });
    body.replaceChildren.apply(body, rows.length ? rows : [emptyRow(4, 'No partitions yet.')]);
  }

  // bitacora_requests_total{interface="http",operation="get",outcome="ok",node="a"} 12
  function parseRequests(text) {
    var counts = {};
    var line = /^bitacora_requests_total\\{([^}]*)\\}\\s+([0-9.eE+-]+)/gm;
    var match;
    while ((match = line.exec(text))) {
      var labels = {};
      match[1].replace(/(\\w+)="((?:[^"\\\\]|\\\\.)*)"/g, function (_, k, v) { labels[k] = v; return ''; });
      var key = labels.operation + '|' + labels.interface + '|' + (labels.outcome === 'ok' || labels.outcome === 'not_found' ? 'ok' : 'error');
      counts[key] = (counts[key] || 0) + Number(match[2]);
    }
    return { at: Date.now(), counts: counts };
  }

  function renderRates(sample) {
    var before = previousCounts;
    previousCounts = sample;
    var body = byId('rates-body');
    if (!before) { body.replaceChildren(emptyRow(4, 'Measuring\\u2026')); return; }
    var seconds = Math.max(0.001, (sample.at - before.at) / 1000);
    var perOperation = {};
    var total = 0;
    Object.keys(sample.counts).forEach(function (key) {
      var delta = sample.counts[key] - (before.counts[key] || 0);
      if (delta < 0) delta = sample.counts[key];
      var parts = key.split('|');
      var op = perOperation[parts[0]] || (perOperation[parts[0]] = { http: 0, avro: 0, errors: 0 });
      if (parts[1] === 'http' || parts[1] === 'avro') op[parts[1]] += delta / seconds;
      if (parts[2] === 'error') op.errors += delta / seconds;
      total += delta / seconds;
    });
    var order = ['get', 'set', 'delete', 'multiget'];
    var names = Object.keys(perOperation).sort(function (a, b) {
      var ia = order.indexOf(a), ib = order.indexOf(b);
      return (ia < 0 ? 99 : ia) - (ib < 0 ? 99 : ib) || a.localeCompare(b);
    });
    var rows = names.map(function (name) {
      var op = perOperation[name];
      return row([td(name), td(rate(op.http), 'num'), td(rate(op.avro), 'num'), td(rate(op.errors), 'num')]);
    });
    body.replaceChildren.apply(body, rows.length ? rows : [emptyRow(4, 'No requests yet.')]);
    byId('req-rate').textContent = rate(total);
  }

  function banner(text) {
    var node = byId('banner');
    node.hidden = !text;
    node.textContent = text || '';
  }

  function getJson(url) {
    return fetch(url, { cache: 'no-store', signal: AbortSignal.timeout(5000) }).then(function (r) {
      if (!r.ok) throw new Error(url + ' answered ' + r.status);
      return r.json();
    });
  }
  function getText(url) {
    return fetch(url, { cache: 'no-store', signal: AbortSignal.timeout(5000) }).then(function (r) {
      if (!r.ok) throw new Error(url + ' answered ' + r.status);
      return r.text();
    });
  }

  function refresh() {
    Promise.allSettled([getJson('/cluster/stats'), getText('/metrics')]).then(function (results) {
      if (results[0].status === 'fulfilled') {
        var members = results[0].value;
        renderMembers(members);
        renderSelf(members.filter(function (m) { return m.self; })[0]);
        banner(null);
      } else {
        banner('This node does not answer (' + results[0].reason.message + '); the figures below are the last ones it gave.');
      }
      if (results[1].status === 'fulfilled') renderRates(parseRequests(results[1].value));
      byId('updated').textContent = 'updated ' + new Date().toLocaleTimeString();
    }).finally(function () { setTimeout(refresh, REFRESH_MS); });
  }

  // The form: GET, POST and DELETE /rpc on this node, the answer shown as it came.
  function showResult(ok, code, message, details, value) {
    var box = byId('result');
    box.hidden = false;
    box.className = 'result ' + (ok ? 'success' : 'error');
    var head = el('div');
    head.appendChild(el('span', 'code', code));
    head.appendChild(el('span', 'message', message));
    var parts = [head];
    if (value !== undefined) parts.push(el('pre', 'value', value));
    if (details) parts.push(el('div', 'muted small details', details));
    box.replaceChildren.apply(box, parts);
  }

  function describeAnswer(op, key, body) {
    var where = 'partition ' + body.partition + ', offset ' + body.offset;
    if (op === 'get') {
      var when = typeof body.timestamp === 'number' ? ', written ' + new Date(body.timestamp).toLocaleString() : '';
      var encoding = body.encoding === 'base64' ? ' (not UTF-8: shown in base64)' : '';
      showResult(true, 'FOUND', 'key \\u201c' + key + '\\u201d' + encoding, where + ', from ' + body.source + when, body.value);
    } else if (op === 'set') {
      showResult(true, 'STORED', 'key \\u201c' + key + '\\u201d is stored and applied on this node', where);
    } else {
      showResult(true, 'DELETED', 'key \\u201c' + key + '\\u201d is deleted', 'tombstone at ' + where);
    }
  }

  function send(op) {
    var key = byId('key').value;
    var value = byId('value').value;
    var url = '/rpc?key=' + encodeURIComponent(key);
    var init = { method: op === 'get' ? 'GET' : op === 'set' ? 'POST' : 'DELETE', headers: { Accept: 'application/json' } };
    // A value travels as the body (no URL length limit); an empty one as ?value=, since an empty body is no value.
    if (op === 'set') {
      if (value === '') url += '&value=';
      else { init.body = value; init.headers['Content-Type'] = 'text/plain; charset=utf-8'; }
    }
    var buttons = document.querySelectorAll('#kv button');
    buttons.forEach(function (b) { b.disabled = true; });
    fetch(url, init).then(function (response) {
      return response.text().then(function (text) {
        var body = null;
        try { body = JSON.parse(text); } catch (e) { body = null; }
        if (response.ok && body) describeAnswer(op, key, body);
        else if (body && body.error) showResult(false, String(body.error.code), String(body.error.message), 'HTTP ' + response.status);
        else showResult(false, 'HTTP ' + response.status, text.slice(0, 200));
      });
    }, function (error) {
      showResult(false, 'NO_ANSWER', 'the node did not answer: ' + error.message);
    }).finally(function () {
      buttons.forEach(function (b) { b.disabled = false; });
    });
  }

  byId('kv').addEventListener('submit', function (event) {
    event.preventDefault();
    var submitter = event.submitter;
    send(submitter && submitter.dataset.op ? submitter.dataset.op : 'get');
  });

  refresh();
})();
`;

const BODY = `
<header>
  <div class="brand"><h1>Bitacora</h1><span id="node-name" class="muted"></span></div>
  <div class="header-status">
    <span id="node-status"></span>
    <span id="zk-status" class="muted small"></span>
    <span id="updated" class="muted small">loading\u2026</span>
  </div>
</header>
<div id="banner" class="banner" role="alert" hidden></div>
<main>
  <section>
    <h2>Cluster <span id="member-count"></span></h2>
    <div class="panel">
      <table id="members">
        <thead><tr><th>Member</th><th>Address</th><th>Readiness</th><th class="num">Entries</th><th class="num">Lag</th><th class="num">Hit ratio</th><th>Version</th><th>Up</th></tr></thead>
        <tbody id="members-body"><tr><td class="empty" colspan="8">Loading\u2026</td></tr></tbody>
      </table>
    </div>
  </section>
  <section class="cards">
    <div class="card"><div class="label">Hit ratio</div><div id="hit-ratio" class="big">\u2014</div><div id="hit-detail" class="muted small"></div></div>
    <div class="card"><div class="label">Requests / s</div><div id="req-rate" class="big">\u2014</div><div class="muted small">HTTP and Avro, over the last refresh</div></div>
    <div class="card"><div class="label">Entries</div><div id="entries" class="big">\u2014</div><div id="bytes" class="muted small"></div></div>
    <div class="card"><div class="label">Lag</div><div id="lag" class="big">\u2014</div><div class="muted small">records behind the partitions' ends as Kafka reports them</div></div>
  </section>
  <section class="two">
    <div>
      <h2>Requests per second, this node</h2>
      <div class="panel">
        <table id="rates">
          <thead><tr><th>Operation</th><th class="num">HTTP</th><th class="num">Avro</th><th class="num">Errors</th></tr></thead>
          <tbody id="rates-body"><tr><td class="empty" colspan="4">Measuring\u2026</td></tr></tbody>
        </table>
      </div>
    </div>
    <div>
      <h2>Partitions, this node</h2>
      <div class="panel">
        <table id="partitions">
          <thead><tr><th>Partition</th><th class="num">Position</th><th class="num" title="last stable offset, asked of Kafka every LAG_CHECK_INTERVAL_MS">End</th><th class="num">Lag</th></tr></thead>
          <tbody id="partitions-body"><tr><td class="empty" colspan="4">Loading\u2026</td></tr></tbody>
        </table>
      </div>
    </div>
  </section>
  <section>
    <h2>Get, set or delete a key</h2>
    <div class="panel">
      <form id="kv" autocomplete="off">
        <label for="key">Key<input id="key" name="key" spellcheck="false"></label>
        <label for="value">Value (for Set)<input id="value" name="value" spellcheck="false"></label>
        <button type="submit" data-op="get">Get</button>
        <button type="submit" data-op="set" class="secondary">Set</button>
        <button type="submit" data-op="delete" class="danger">Delete</button>
      </form>
      <div id="result" class="result" aria-live="polite" hidden></div>
    </div>
  </section>
</main>
<footer class="muted">Refreshes every 2 s from <a href="/cluster/stats">/cluster/stats</a> and <a href="/metrics">/metrics</a>; the form uses this node's <code>/rpc</code>.</footer>
`;

function sha256(text: string): string {
  return `'sha256-${createHash('sha256').update(text, 'utf8').digest('base64')}'`;
}

const HTML = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Bitacora</title>
<link rel="icon" href="data:,">
<style>${STYLE}</style>
</head>
<body>${BODY}<script>${SCRIPT}</script>
</body>
</html>
`;

/** The status page and the headers it is served with; the CSP allows exactly its own inline style and script. */
export const statusPage: { readonly html: string; readonly headers: Readonly<Record<string, string>> } = Object.freeze({
  html: HTML,
  headers: Object.freeze({
    'Content-Type': 'text/html; charset=utf-8',
    'Cache-Control': 'no-store',
    'X-Content-Type-Options': 'nosniff',
    'Content-Security-Policy': [
      "default-src 'none'",
      `script-src ${sha256(SCRIPT)}`,
      `style-src ${sha256(STYLE)}`,
      "connect-src 'self'",
      "img-src 'self' data:",
      "base-uri 'none'",
      "form-action 'none'",
      "frame-ancestors 'none'",
    ].join('; '),
  }),
});
