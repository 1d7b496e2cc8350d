/* faultline report.html: the page's own script. Inlined by controller/report/report-html.ts; uPlot is inlined
 * before it. Reads the run's metadata (JSON) and its operations (gzip-compressed typed-array columns, base64), then
 * draws the checks, the timeline (canvas, aggregated per pixel when zoomed out), the latency, throughput and clock
 * charts (uPlot) with fault windows shaded, the faults and the plan. No network access. */
(function () {
  'use strict';
  var state = (window.__faultlineReport = { ready: false, errors: [], renderedAtMs: null, ops: 0, faultBandsDrawn: 0, opsDrawn: 0 });
  window.addEventListener('error', function (e) { state.errors.push(String(e.message || e)); });

  var OUT = ['ok', 'fail', 'info', 'open'];
  var COLOR = { ok: '#5bb761', fail: '#e0607e', info: '#f0a030', open: '#f7d08a', grey: '#b9b9b9', evidence: '#111' };
  var FAULT_COLOR = { partition: '#7e57c2', kill: '#d32f2f', pause: '#1976d2', clock: '#00897b', loss: '#ef6c00', rate: '#6d4c41', delay: '#5d4037', duplicate: '#5d4037', reorder: '#5d4037', corrupt: '#5d4037' };
  function faultColor(kind) { return FAULT_COLOR[kind] || '#757575'; }
  function rgba(hex, a) { var n = parseInt(hex.slice(1), 16); return 'rgba(' + (n >> 16) + ',' + ((n >> 8) & 255) + ',' + (n & 255) + ',' + a + ')'; }

  var meta = JSON.parse(document.getElementById('meta').textContent);
  var app = document.getElementById('app');

  function el(tag, attrs, children) {
    var e = document.createElement(tag);
    if (attrs) for (var k in attrs) {
      if (k === 'text') e.textContent = attrs[k];
      else if (k === 'class') e.className = attrs[k];
      else if (k.slice(0, 2) === 'on') e.addEventListener(k.slice(2), attrs[k]);
      else e.setAttribute(k, attrs[k]);
    }
    (children || []).forEach(function (c) { if (c != null) e.appendChild(typeof c === 'string' ? document.createTextNode(c) : c); });
    return e;
  }
  function verdictWord(v) { return v === true ? 'valid' : v === false ? 'invalid' : 'unknown'; }
  function badge(v) { var w = verdictWord(v); return el('span', { class: 'badge ' + w, text: w.toUpperCase() }); }
  function fmtMs(ms) {
    if (!isFinite(ms)) return '∞';
    if (ms === 0) return '0';
    var a = Math.abs(ms);
    if (a >= 60000) return (ms / 60000).toFixed(2) + ' min';
    if (a >= 1000) return (ms / 1000).toFixed(3) + ' s';
    if (a >= 1) return ms.toFixed(3) + ' ms';
    return (ms * 1000).toFixed(1) + ' µs';
  }
  function clip(s, n) { s = String(s); return s.length > n ? s.slice(0, n) + '…' : s; }

  function b64ToBytes(b64) {
    if (Uint8Array.fromBase64) return Uint8Array.fromBase64(b64);
    var bin = atob(b64), out = new Uint8Array(bin.length);
    for (var i = 0; i < bin.length; i++) out[i] = bin.charCodeAt(i);
    return out;
  }

  async function loadOps() {
    var b64 = document.getElementById('ops').textContent.trim();
    var bytes = b64ToBytes(b64);
    var stream = new Blob([bytes]).stream().pipeThrough(new DecompressionStream('gzip'));
    var ab = await new Response(stream).arrayBuffer();
    var hlen = new DataView(ab).getUint32(0, true);
    var header = JSON.parse(new TextDecoder().decode(new Uint8Array(ab, 4, hlen)));
    var base = Math.ceil((4 + hlen) / 8) * 8;
    var cols = { count: header.count };
    header.columns.forEach(function (c) { cols[c.name] = new window[c.type](ab, base + c.offset, c.length); });
    return { cols: cols, tables: header.tables };
  }

  // ---------------------------------------------------------------- page skeleton
  function header(ops) {
    var r = meta.results || {};
    var c = meta.counts;
    var files = el('div', { class: 'files' }, meta.files.map(function (f) { return el('a', { href: encodeURI(f), text: f }); }));
    return el('section', { id: 'summary' }, [
      el('h1', null, ['faultline: ' + meta.title + ' ', badge(r.valid === undefined ? 'unknown' : r.valid)]),
      r.reason ? el('div', { class: 'muted', text: r.reason }) : null,
      meta.noOk ? el('div', { class: 'flag', id: 'no-ok-flag', text: 'No operation completed ok: this run proves nothing about the database, whatever the verdict says.' }) : null,
      el('div', { class: 'counts' }, [
        el('span', { text: ops.count + ' operations' }),
        el('span', null, [el('span', { class: 'swatch', style: 'background:' + COLOR.ok }), 'ok ' + c.ok]),
        el('span', null, [el('span', { class: 'swatch', style: 'background:' + COLOR.fail }), 'fail ' + c.fail]),
        el('span', null, [el('span', { class: 'swatch', style: 'background:' + COLOR.info }), 'info ' + c.info]),
        el('span', null, [el('span', { class: 'swatch', style: 'background:' + COLOR.open }), 'open ' + c.open]),
        el('span', null, [el('span', { class: 'swatch', style: 'background:' + COLOR.grey }), 'not checked ' + c.unchecked]),
        el('span', { text: meta.faults.length + ' faults' }),
        el('span', { class: 'muted', text: 'history ' + fmtMs(meta.spanMs) }),
      ]),
      r.gaps && r.gaps.length ? el('div', { class: 'flag', text: r.gaps.length + ' sequence gap(s): the history is incomplete' }) : null,
      el('div', { class: 'muted' }, ['Files: ']), files,
      meta.traceFile ? el('div', { class: 'muted' }, ['Big run: open ', el('a', { href: meta.traceFile, text: meta.traceFile }), ' in Perfetto (ui.perfetto.dev) to browse every operation.']) : null,
    ]);
  }

  // ---------------------------------------------------------------- checks
  function renderChecks(ops, view) {
    var sec = el('section', { id: 'checks' }, [el('h2', { text: 'Checks' })]);
    var checks = (meta.results && meta.results.checks) || {};
    var names = Object.keys(checks);
    if (names.length === 0) sec.appendChild(el('p', { class: 'muted', text: 'No checker ran' + (meta.results && meta.results.reason ? ': ' + meta.results.reason : '') + '. Every operation is grey: none was looked at.' }));
    names.forEach(function (name) {
      var r = checks[name] || {};
      var card = el('div', { class: 'check', 'data-checker': name }, [el('h3', null, [(r.checker || name) + ' ', badge(r.valid)])]);
      (r.summary || []).forEach(function (line) { card.appendChild(el('div', { text: line })); });
      if (r.error) card.appendChild(el('div', { class: 'flag', text: 'checker error: ' + r.error }));
      if (r.reason) card.appendChild(el('div', { class: 'muted', text: r.reason }));
      // Anomaly counts: a map name -> number (shared shape) or name -> { count, examples } (Elle).
      var an = r.anomalies;
      if (an && typeof an === 'object' && !Array.isArray(an)) {
        var rows = Object.keys(an).map(function (k) {
          var v = an[k];
          var count = typeof v === 'number' ? v : v && typeof v.count === 'number' ? v.count : Array.isArray(v) ? v.length : '?';
          var examples = v && Array.isArray(v.examples) ? v.examples : Array.isArray(v) ? v : r.examples && Array.isArray(r.examples[k]) ? r.examples[k] : [];
          return el('tr', null, [el('td', { class: 'mono', text: k }), el('td', { text: String(count) }), el('td', null, examples.slice(0, 3).map(function (ex) {
            var lines = Array.isArray(ex.explanation) ? ex.explanation : [typeof ex === 'string' ? ex : JSON.stringify(ex)];
            var pic = ex.picture ? meta.files.filter(function (f) { return f.slice(-ex.picture.length) === ex.picture; })[0] : null;
            return el('div', null, [el('div', { text: lines.join('\n'), style: 'white-space:pre-wrap' }), pic ? el('a', { href: encodeURI(pic), text: 'picture' }) : null]);
          }))]);
        });
        if (rows.length) card.appendChild(el('table', null, [el('tr', null, [el('th', { text: 'anomaly' }), el('th', { text: 'count' }), el('th', { text: 'examples' })])].concat(rows)));
        else card.appendChild(el('div', { class: 'muted', text: 'no anomalies' }));
      }
      if (Array.isArray(r.invalidKeys) && r.invalidKeys.length) card.appendChild(el('div', { text: 'invalid keys: ' + r.invalidKeys.join(', ') }));
      if (Array.isArray(r.unknownKeys) && r.unknownKeys.length) card.appendChild(el('div', { text: 'unknown keys: ' + clip(r.unknownKeys.join(', '), 400) }));
      if (typeof r.opCount === 'number') card.appendChild(el('div', { class: 'muted', text: r.opCount + ' ops over ' + r.keyCount + ' keys' + (r.model ? ', model ' + r.model : '') }));
      if (r.evidence) card.appendChild(renderLinEvidence(r.evidence, ops, view));
      var lost = Array.isArray(r.lost) ? r.lost : null;
      if (lost || typeof r.lostCount === 'number') card.appendChild(renderLost(lost || [], r.lostCount, ops, view));
      var linHtml = name === 'linearizable' && meta.files.indexOf('linearizability.html') >= 0;
      if (linHtml) card.appendChild(el('div', null, ['Failing window drawn in ', el('a', { href: 'linearizability.html', text: 'linearizability.html' })]));
      var pre = el('pre', { text: clip(JSON.stringify(r, null, 2), 200000) });
      card.appendChild(el('details', null, [el('summary', { text: 'all fields' }), pre]));
      sec.appendChild(card);
    });
    return sec;
  }

  function opLink(index, ops, view, label) {
    return el('button', { text: label || 'show #' + index, onclick: function () { view.focusIndex(index); } });
  }

  function renderLinEvidence(ev, ops, view) {
    var box = el('div', { class: 'evidence' });
    var f = ev.failingOp || ev.blockedAfterPrefix;
    if (f) box.appendChild(el('div', null, [
      'key ', el('code', { text: String(ev.key) }), ': ', el('b', { text: f.f + ' by process ' + f.process + (f.node ? ' on ' + f.node : '') + ' (event ' + f.index + ')' }),
      ' ' + (f.type === 'ok' ? 'returned ' + JSON.stringify(f.value) : '(' + f.type + ') with ' + JSON.stringify(f.value)) + ', impossible once the register held ' + JSON.stringify(ev.stateAfterPrefix) + ' ',
      opLink(f.index, ops, view, 'show in timeline'),
    ]));
    if (Array.isArray(ev.subHistory) && ev.subHistory.length) {
      box.appendChild(el('div', { class: 'muted', text: 'A smallest failing sub-history (' + ev.subHistory.length + ' ops)' + (ev.minimisationCut ? ', minimisation cut short' : '') + ':' }));
      box.appendChild(el('table', null, [el('tr', null, ['event', 'process', 'node', 'f', 'value', 'outcome', ''].map(function (h) { return el('th', { text: h }); }))].concat(
        ev.subHistory.slice(0, 200).map(function (o) {
          return el('tr', null, [el('td', { text: String(o.index) }), el('td', { text: String(o.process) }), el('td', { text: o.node || '' }), el('td', { text: o.f }),
            el('td', { class: 'mono', text: clip(JSON.stringify(o.value), 80) }), el('td', { text: o.type }), el('td', null, [opLink(o.index, ops, view, 'show')])]);
        }))));
      box.appendChild(el('button', { text: 'zoom timeline to the failing window', onclick: function () { view.focusIndexes(ev.subHistory.map(function (o) { return o.index; })); } }));
    }
    return box;
  }

  function renderLost(lost, lostCount, ops, view) {
    var box = el('div', { class: 'evidence' }, [el('div', null, [el('b', { text: (typeof lostCount === 'number' ? lostCount : lost.length) + ' lost element(s)' }), ' (acknowledged, never read back)'])]);
    var t = ops.tables, c = ops.cols;
    var addF = t.fs.indexOf('add');
    lost.slice(0, 100).forEach(function (elem) {
      var text = JSON.stringify(elem), row = -1;
      if (addF >= 0) for (var i = 0; i < c.count; i++) if (c.f[i] === addF && t.values[i] === text) { row = i; break; }
      box.appendChild(el('span', { class: 'mono', style: 'margin-right:10px' }, [text, row >= 0 ? ' ' : '', row >= 0 ? opLink(c.index[row], ops, view, 'add') : null]));
    });
    return box;
  }

  // ---------------------------------------------------------------- timeline
  function Timeline(ops, onView) {
    var c = ops.cols, t = ops.tables, n = c.count;
    var self = this;
    var conc = meta.plan && Number(meta.plan.concurrency) > 0 ? Number(meta.plan.concurrency) : 0;
    // Lanes: one per worker (process mod concurrency: a retired process's successor continues on its lane), else per process.
    var laneOf = new Uint32Array(n), laneIds = new Map(), laneLabels = [];
    for (var i = 0; i < n; i++) {
      var p = c.process[i], id = conc ? p % conc : p;
      var lane = laneIds.get(id);
      if (lane === undefined) { lane = laneIds.size; laneIds.set(id, lane); laneLabels.push(id); }
      laneOf[i] = lane;
    }
    if (conc) {
      // Lanes in worker order.
      var order = laneLabels.map(function (id, l) { return [id, l]; }).sort(function (a, b) { return a[0] - b[0]; });
      var remap = new Uint32Array(order.length);
      order.forEach(function (pair, k) { remap[pair[1]] = k; });
      for (i = 0; i < n; i++) laneOf[i] = remap[laneOf[i]];
      laneLabels = order.map(function (pair) { return pair[0]; });
    }
    var lanes = laneLabels.length;
    var laneCount = new Uint32Array(lanes);
    for (i = 0; i < n; i++) laneCount[laneOf[i]]++;
    var laneRows = [], fill = new Uint32Array(lanes);
    for (var l = 0; l < lanes; l++) laneRows.push(new Uint32Array(laneCount[l]));
    for (i = 0; i < n; i++) { l = laneOf[i]; laneRows[l][fill[l]++] = i; }
    var maxDur = 0;
    for (i = 0; i < n; i++) if (c.dur[i] > maxDur) maxDur = c.dur[i];
    var evidence = new Set();
    (meta.evidenceIndexes || []).forEach(function (ix) { var r = rowOfIndex(ix); if (r >= 0) evidence.add(r); });
    function rowOfIndex(ix) {
      var lo = 0, hi = n - 1;
      while (lo <= hi) { var mid = (lo + hi) >> 1; if (c.index[mid] < ix) lo = mid + 1; else if (c.index[mid] > ix) hi = mid - 1; else return mid; }
      return -1;
    }
    this.rowOfIndex = rowOfIndex;

    var AXIS = 26, LABEL = 64;
    var laneH = Math.max(3, Math.min(22, Math.floor(520 / Math.max(1, lanes))));
    var wrap = el('div', { id: 'timeline-wrap' });
    var canvas = el('canvas', { id: 'timeline' });
    var tip = el('div', { id: 'tip' });
    wrap.appendChild(canvas);
    wrap.appendChild(tip);
    this.el = wrap;
    var span = Math.max(meta.spanMs, 1e-3);
    this.view = { t0: -span * 0.01, t1: span * 1.01 };
    var width = 800, height = AXIS + lanes * laneH + 4, dpr = window.devicePixelRatio || 1;
    var ctx = canvas.getContext('2d');

    function pri(row) {
      if (evidence.has(row)) return 5;
      if (!c.checked[row]) return 0;
      var ty = c.type[row];
      return ty === 2 ? 4 : ty === 3 ? 3 : ty === 1 ? 2 : 1;
    }
    var PRI_COLOR = [COLOR.grey, COLOR.ok, COLOR.fail, COLOR.open, COLOR.info, COLOR.evidence];
    function colorOf(row) { return c.checked[row] ? COLOR[OUT[c.type[row]]] : COLOR.grey; }

    function lowerBound(rows, tStart) {
      var lo = 0, hi = rows.length;
      while (lo < hi) { var mid = (lo + hi) >> 1; if (c.start[rows[mid]] < tStart) lo = mid + 1; else hi = mid; }
      return lo;
    }

    this.resize = function () {
      width = Math.max(300, wrap.clientWidth || 800);
      canvas.style.width = width + 'px';
      canvas.style.height = height + 'px';
      canvas.width = Math.round(width * dpr);
      canvas.height = Math.round(height * dpr);
      self.draw();
    };

    function niceStep(rangeMs, px) {
      var target = rangeMs / Math.max(1, px / 110);
      var p = Math.pow(10, Math.floor(Math.log10(target)));
      var m = target / p;
      return (m < 1.5 ? 1 : m < 3.5 ? 2 : m < 7.5 ? 5 : 10) * p;
    }

    this.draw = function () {
      var v = self.view, plotW = width - LABEL, k = plotW / (v.t1 - v.t0);
      function X(ms) { return LABEL + (ms - v.t0) * k; }
      ctx.setTransform(dpr, 0, 0, dpr, 0, 0);
      ctx.clearRect(0, 0, width, height);
      ctx.fillStyle = '#fff';
      ctx.fillRect(0, 0, width, height);
      // Fault windows as bands under the lanes.
      var bands = 0;
      meta.faults.forEach(function (f) {
        var x0 = Math.max(LABEL, X(f.startMs)), x1 = Math.min(width, X(f.endMs));
        if (x1 < LABEL || x0 > width) return;
        bands++;
        ctx.fillStyle = rgba(faultColor(f.kind), 0.16);
        ctx.fillRect(x0, AXIS, Math.max(1, x1 - x0), lanes * laneH);
        ctx.fillStyle = rgba(faultColor(f.kind), 0.85);
        ctx.fillRect(x0, AXIS - 5, Math.max(1, x1 - x0), 4);
        if (x1 - x0 > 60) { ctx.font = '11px system-ui, sans-serif'; ctx.fillText(clip(f.kind + ' ' + (f.kind === 'partition' && f.description ? f.description.split(',')[0] : f.nodes.join(',')), Math.floor((x1 - x0) / 6)), x0 + 3, AXIS - 8); }
      });
      state.faultBandsDrawn = bands;
      // Axis.
      var step = niceStep(v.t1 - v.t0, plotW);
      ctx.fillStyle = '#667';
      ctx.strokeStyle = '#e4e7eb';
      ctx.font = '11px system-ui, sans-serif';
      ctx.lineWidth = 1;
      for (var tick = Math.ceil(v.t0 / step) * step; tick <= v.t1; tick += step) {
        var x = Math.round(X(tick)) + 0.5;
        ctx.beginPath(); ctx.moveTo(x, AXIS - 14); ctx.lineTo(x, height); ctx.stroke();
        if (x < width - 40) ctx.fillText(fmtMs(tick), x + 2, 10);
      }
      // Lanes.
      var drawn = 0;
      ctx.font = '10px ui-monospace, monospace';
      for (var l = 0; l < lanes; l++) {
        var y = AXIS + l * laneH, rows = laneRows[l];
        if (laneH >= 9) { ctx.fillStyle = '#667'; ctx.fillText((conc ? 'w' : 'p') + laneLabels[l], 4, y + laneH - 3); }
        var i0 = Math.max(0, lowerBound(rows, v.t0 - maxDur) - 1);
        var curPx = -1, curPri = -1;
        for (var j = i0; j < rows.length; j++) {
          var row = rows[j], s = c.start[row];
          if (s > v.t1) break;
          var e = s + Math.max(0, c.dur[row]);
          if (e < v.t0) continue;
          var x0 = X(s), x1 = X(e);
          drawn++;
          if (x1 - x0 >= 2) {
            if (curPx >= 0) { ctx.fillStyle = PRI_COLOR[curPri]; ctx.fillRect(curPx, y + 1, 1, laneH - 2); curPx = -1; }
            var cx0 = Math.max(LABEL, x0), cx1 = Math.min(width, x1);
            ctx.fillStyle = colorOf(row);
            ctx.fillRect(cx0, y + 1, Math.max(1, cx1 - cx0 - 1), laneH - 2);
            if (evidence.has(row)) { ctx.strokeStyle = COLOR.evidence; ctx.lineWidth = 2; ctx.strokeRect(cx0 + 1, y + 2, Math.max(1, cx1 - cx0 - 3), laneH - 4); ctx.lineWidth = 1; }
            if (cx1 - cx0 > 50 && laneH >= 12) {
              ctx.fillStyle = '#1d2330';
              ctx.fillText(clip(t.fs[c.f[row]] + ' ' + t.values[row], Math.floor((cx1 - cx0 - 6) / 6)), cx0 + 3, y + laneH - 4);
            }
          } else {
            var px = Math.floor(x0);
            if (px < LABEL) continue;
            var pr = pri(row);
            if (px !== curPx) {
              if (curPx >= 0) { ctx.fillStyle = PRI_COLOR[curPri]; ctx.fillRect(curPx, y + 1, 1, laneH - 2); }
              curPx = px; curPri = pr;
            } else if (pr > curPri) curPri = pr;
          }
        }
        if (curPx >= 0) { ctx.fillStyle = PRI_COLOR[curPri]; ctx.fillRect(curPx, y + 1, 1, laneH - 2); }
      }
      ctx.fillStyle = '#fff';
      ctx.fillRect(0, 0, LABEL - 2, AXIS - 2);
      state.opsDrawn = drawn;
    };

    this.setView = function (t0, t1, silent) {
      var min = 1e-3;
      if (t1 - t0 < min) { var mid = (t0 + t1) / 2; t0 = mid - min / 2; t1 = mid + min / 2; }
      self.view = { t0: t0, t1: t1 };
      self.draw();
      if (!silent) onView(t0, t1);
    };
    function tAt(clientX) { var r = canvas.getBoundingClientRect(); return self.view.t0 + ((clientX - r.left - LABEL) / (width - LABEL)) * (self.view.t1 - self.view.t0); }
    this.hit = function (clientX, clientY) {
      var r = canvas.getBoundingClientRect();
      var lane = Math.floor((clientY - r.top - AXIS) / laneH);
      if (lane < 0 || lane >= lanes) return -1;
      var tm = tAt(clientX), rows = laneRows[lane], tol = 2 * (self.view.t1 - self.view.t0) / (width - LABEL);
      var j = lowerBound(rows, tm + tol);
      for (var q = j - 1; q >= 0 && q >= j - 3; q--) { var row = rows[q]; if (c.start[row] - tol <= tm && tm <= c.start[row] + Math.max(0, c.dur[row]) + tol) return row; }
      return -1;
    };

    var drag = null;
    wrap.addEventListener('wheel', function (ev) {
      ev.preventDefault();
      var tm = tAt(ev.clientX), f = Math.pow(1.0016, ev.deltaY);
      self.setView(tm - (tm - self.view.t0) * f, tm + (self.view.t1 - tm) * f);
    }, { passive: false });
    wrap.addEventListener('mousedown', function (ev) { drag = { x: ev.clientX, v: self.view, moved: false }; wrap.classList.add('dragging'); });
    window.addEventListener('mouseup', function () { if (drag) wrap.classList.remove('dragging'); setTimeout(function () { drag = null; }, 0); });
    wrap.addEventListener('mousemove', function (ev) {
      if (drag && (ev.buttons & 1)) {
        var dx = ev.clientX - drag.x;
        if (Math.abs(dx) > 2) drag.moved = true;
        var dt = (dx / (width - LABEL)) * (drag.v.t1 - drag.v.t0);
        self.setView(drag.v.t0 - dt, drag.v.t1 - dt);
        tip.style.display = 'none';
        return;
      }
      var row = self.hit(ev.clientX, ev.clientY);
      if (row < 0) { tip.style.display = 'none'; return; }
      var r = wrap.getBoundingClientRect();
      tip.textContent = describeOp(ops, row, evidence.has(row)).join('\n');
      tip.style.display = 'block';
      tip.style.left = Math.min(r.width - 360, ev.clientX - r.left + 14) + 'px';
      tip.style.top = (ev.clientY - r.top + 14) + 'px';
    });
    wrap.addEventListener('mouseleave', function () { tip.style.display = 'none'; });
    wrap.addEventListener('click', function (ev) { if (drag && drag.moved) return; var row = self.hit(ev.clientX, ev.clientY); if (row >= 0) self.onPick(row); });
    wrap.addEventListener('dblclick', function () { self.reset(); });
    this.reset = function () { self.setView(-span * 0.01, span * 1.01); };
    this.onPick = function () {};
    this.evidence = evidence;
    this.lanes = lanes;
  }

  function whyOf(ops, row) {
    var c = ops.cols, t = ops.tables, ty = OUT[c.type[row]], err = c.err[row] ? t.errors[c.err[row]] : '';
    if (ty === 'ok') return 'ok: the database acknowledged it' + (t.values[row] !== 'null' ? ' and returned ' + clip(t.values[row], 200) : '');
    if (ty === 'fail') return 'fail: certainly did not take effect: ' + (err || 'the client reported a definite failure');
    if (ty === 'info') return 'info: outcome unknown (it may or may not have taken effect): ' + (err || 'no reason given');
    return 'info: never completed; the run ended before the client heard back';
  }

  function describeOp(ops, row, isEvidence) {
    var c = ops.cols, t = ops.tables;
    var lines = [
      t.fs[c.f[row]] + ' #' + c.index[row] + '  process ' + c.process[row] + ' on ' + t.nodes[c.node[row]] + (c.key[row] ? '  key ' + t.keys[c.key[row]] : ''),
      'value ' + clip(t.values[row], 200),
      whyOf(ops, row),
      'invoked at ' + fmtMs(c.start[row]) + ', ' + (c.type[row] === 3 ? 'open for ' : 'took ') + fmtMs(c.dur[row]) + ' (±' + c.uncertaintyUs[row].toFixed(0) + ' µs)',
    ];
    if (!c.checked[row]) lines.push('no checker looked at this operation');
    if (isEvidence) lines.push('named in a checker\'s evidence');
    return lines;
  }

  // ---------------------------------------------------------------- charts (uPlot)
  function bandsPlugin() {
    return {
      hooks: {
        drawClear: [function (u) {
          var ctx = u.ctx, top = u.bbox.top, h = u.bbox.height;
          ctx.save();
          meta.faults.forEach(function (f) {
            var x0 = u.valToPos(f.startMs / 1000, 'x', true), x1 = u.valToPos(f.endMs / 1000, 'x', true);
            var l = Math.max(u.bbox.left, x0), r = Math.min(u.bbox.left + u.bbox.width, x1);
            if (r <= l) return;
            ctx.fillStyle = rgba(faultColor(f.kind), 0.14);
            ctx.fillRect(l, top, r - l, h);
          });
          ctx.restore();
        }],
      },
    };
  }

  function quantile(sorted, q) { if (!sorted.length) return null; var i = Math.min(sorted.length - 1, Math.floor(q * sorted.length)); return sorted[i]; }

  /** Latency points (all of them when few, else the slowest few per bucket and outcome) and quantile lines of ok ops. */
  function latencyData(ops, t0, t1, buckets) {
    var c = ops.cols, bw = (t1 - t0) / buckets;
    var lo = lowerBoundStart(c, t0), hi = lowerBoundStart(c, t1 + 1e-9);
    var inView = hi - lo, all = inView <= 15000;
    var pts = [[], [], []];
    var perBucket = new Array(buckets), best = all ? null : new Map();
    for (var i = lo; i < hi; i++) {
      var ty = c.type[i];
      if (ty === 3) continue;
      var s = c.start[i], d = Math.max(c.dur[i], 1e-3), b = Math.min(buckets - 1, Math.floor((s - t0) / bw));
      if (ty === 0) (perBucket[b] || (perBucket[b] = [])).push(d);
      if (all) pts[ty].push([s / 1000, d]);
      else {
        var key = b * 3 + ty, cur = best.get(key);
        if (!cur) best.set(key, (cur = []));
        if (cur.length < 3) cur.push([s / 1000, d]);
        else { var m = 0; for (var q = 1; q < 3; q++) if (cur[q][1] < cur[m][1]) m = q; if (d > cur[m][1]) cur[m] = [s / 1000, d]; }
      }
    }
    if (!all) best.forEach(function (v, key) { v.forEach(function (p) { pts[key % 3].push(p); }); });
    var entries = [];
    pts.forEach(function (list, k) { list.forEach(function (p) { entries.push([p[0], k, p[1]]); }); });
    for (var b2 = 0; b2 < buckets; b2++) {
      var arr = perBucket[b2];
      if (!arr) continue;
      arr.sort(function (a, b) { return a - b; });
      var x = (t0 + (b2 + 0.5) * bw) / 1000;
      entries.push([x, 3, quantile(arr, 0.5)], [x, 4, quantile(arr, 0.95)], [x, 5, quantile(arr, 0.99)]);
    }
    entries.sort(function (a, b) { return a[0] - b[0]; });
    var data = [new Float64Array(entries.length)];
    for (var s2 = 0; s2 < 6; s2++) data.push(new Array(entries.length).fill(null));
    entries.forEach(function (e, k) { data[0][k] = e[0]; data[e[1] + 1][k] = e[2]; });
    return { data: data, sampled: !all, inView: inView };
  }

  function lowerBoundStart(c, tm) { var lo = 0, hi = c.count; while (lo < hi) { var mid = (lo + hi) >> 1; if (c.start[mid] < tm) lo = mid + 1; else hi = mid; } return lo; }

  /** Completions per second by outcome, per bucket of completion time. */
  function throughputData(ops, t0, t1, buckets, maxDur) {
    var c = ops.cols, bw = (t1 - t0) / buckets;
    var counts = [new Float64Array(buckets), new Float64Array(buckets), new Float64Array(buckets)];
    var lo = lowerBoundStart(c, t0 - maxDur), hi = lowerBoundStart(c, t1 + 1e-9);
    for (var i = lo; i < hi; i++) {
      var ty = c.type[i];
      if (ty === 3) continue;
      var e = c.start[i] + c.dur[i];
      if (e < t0 || e >= t1) continue;
      counts[ty][Math.floor((e - t0) / bw)]++;
    }
    var xs = new Float64Array(buckets);
    for (var b = 0; b < buckets; b++) xs[b] = (t0 + b * bw) / 1000;
    var per = 1000 / bw;
    return [xs].concat(counts.map(function (arr) { return Array.from(arr, function (v) { return v * per; }); }));
  }

  function clockData() {
    var nodes = Object.keys(Object.assign({}, meta.clockOffsets, meta.uncertainty.byNode)).sort();
    var xsSet = new Set([0, meta.spanMs / 1000]);
    nodes.forEach(function (nd) {
      (meta.clockOffsets[nd] || []).forEach(function (p) { xsSet.add(p[0] / 1000); });
      (meta.uncertainty.byNode[nd] || []).forEach(function (p) { xsSet.add(p[0] / 1000); });
    });
    var xs = Array.from(xsSet).sort(function (a, b) { return a - b; });
    var pos = new Map(xs.map(function (x, i) { return [x, i]; }));
    var data = [xs];
    nodes.forEach(function (nd) {
      var off = new Array(xs.length).fill(null);
      var series = meta.clockOffsets[nd] || [];
      off[0] = series.length && series[0][0] === 0 ? series[0][1] : 0;
      series.forEach(function (p) { off[pos.get(p[0] / 1000)] = p[1]; });
      var last = off[0];
      for (var i = 0; i < xs.length; i++) { if (off[i] === null) off[i] = last; else last = off[i]; }
      data.push(off);
    });
    nodes.forEach(function (nd) {
      var un = new Array(xs.length).fill(null);
      (meta.uncertainty.byNode[nd] || []).forEach(function (p) { un[pos.get(p[0] / 1000)] = p[1] / 1000; });
      data.push(un);
    });
    return { nodes: nodes, data: data };
  }

  var PALETTE = ['#1f77b4', '#ff7f0e', '#2ca02c', '#d62728', '#9467bd', '#8c564b', '#e377c2', '#7f7f7f', '#bcbd22', '#17becf'];

  function Charts(ops, container, onZoom) {
    var self = this, span = Math.max(meta.spanMs, 1e-3);
    var maxDur = 0, c = ops.cols;
    for (var i = 0; i < c.count; i++) if (c.type[i] !== 3 && c.dur[i] > maxDur) maxDur = c.dur[i];
    var width = Math.max(300, container.clientWidth - 10);
    var syncing = false;
    function xScaleHook(u, key) {
      if (key !== 'x' || syncing) return;
      var sx = u.scales.x;
      if (sx.min == null || sx.max == null) return;
      onZoom(sx.min * 1000, sx.max * 1000);
    }
    function common(title, extra) {
      return Object.assign({
        title: title, width: width, height: 230, plugins: [bandsPlugin()],
        scales: { x: { time: false } },
        cursor: { drag: { x: true, y: false }, bind: { dblclick: function () { return function () { onZoom(-span * 0.01, span * 1.01); return null; }; } } },
        hooks: { setScale: [xScaleHook] },
        axes: [{ label: 'seconds into the run' }, {}],
      }, extra);
    }
    var buckets = Math.max(50, Math.min(600, Math.floor(width / 3)));
    var lat = latencyData(ops, 0, span, buckets);
    var point = function (color) { return { show: true, size: 3, fill: color, stroke: color }; };
    var latEl = el('div', { class: 'chart', id: 'chart-latency' });
    var thrEl = el('div', { class: 'chart', id: 'chart-throughput' });
    var clkEl = el('div', { class: 'chart', id: 'chart-clock' });
    var latNote = el('div', { class: 'muted', id: 'latency-note' });
    container.appendChild(latEl); container.appendChild(latNote); container.appendChild(thrEl); container.appendChild(clkEl);
    this.latency = new uPlot(common('Latency (ms, log) by invocation time: ok / fail / info ops, and quantiles of ok ops', {
      scales: { x: { time: false }, y: { distr: 3 } },
      series: [{ label: 's' },
        { label: 'ok', stroke: COLOR.ok, paths: function () { return null; }, points: point(COLOR.ok), spanGaps: false },
        { label: 'fail', stroke: COLOR.fail, paths: function () { return null; }, points: point(COLOR.fail), spanGaps: false },
        { label: 'info', stroke: COLOR.info, paths: function () { return null; }, points: point(COLOR.info), spanGaps: false },
        { label: 'p50', stroke: '#333', width: 1.2, spanGaps: true, points: { show: false } },
        { label: 'p95', stroke: '#8e24aa', width: 1.2, spanGaps: true, points: { show: false } },
        { label: 'p99', stroke: '#c62828', width: 1.2, spanGaps: true, points: { show: false } }],
      axes: [{ label: 'seconds into the run' }, { label: 'ms' }],
    }), lat.data, latEl);
    latNote.textContent = lat.sampled ? lat.inView + ' ops in view: showing the slowest per bucket and outcome; zoom in to see every point' : '';
    var thr = throughputData(ops, 0, span, buckets, maxDur);
    var stepped = uPlot.paths && uPlot.paths.stepped ? uPlot.paths.stepped({ align: 1 }) : undefined;
    this.throughput = new uPlot(common('Throughput (completions per second) by outcome', {
      series: [{ label: 's' },
        { label: 'ok', stroke: COLOR.ok, width: 1.5, paths: stepped, fill: rgba(COLOR.ok, 0.15) },
        { label: 'fail', stroke: COLOR.fail, width: 1.5, paths: stepped },
        { label: 'info', stroke: COLOR.info, width: 1.5, paths: stepped }],
      axes: [{ label: 'seconds into the run' }, { label: 'ops/s' }],
    }), thr, thrEl);
    var clk = clockData();
    var clkSeries = [{ label: 's' }];
    clk.nodes.forEach(function (nd, k) { clkSeries.push({ label: nd + ' offset (ms)', stroke: PALETTE[k % 10], width: 1.5, paths: stepped, spanGaps: true, scale: 'off' }); });
    clk.nodes.forEach(function (nd, k) { clkSeries.push({ label: nd + ' ± (ms)', stroke: PALETTE[k % 10], dash: [4, 3], width: 1, spanGaps: true, scale: 'unc', points: { show: false } }); });
    this.clock = new uPlot(common('Clock per node: offset applied by clock faults (solid, left) and timestamp uncertainty (dashed, right)', {
      scales: { x: { time: false }, off: { auto: true, range: function (u, min, max) { return min === max ? [min - 1, max + 1] : [min, max]; } }, unc: { auto: true } },
      series: clkSeries,
      axes: [{ label: 'seconds into the run' }, { scale: 'off', label: 'offset ms' }, { scale: 'unc', side: 1, label: 'uncertainty ms', grid: { show: false } }],
    }), clk.data, clkEl);
    this.all = [this.latency, this.throughput, this.clock];
    this.setRange = function (t0, t1) {
      syncing = true;
      try {
        var a = Math.max(t0, -span), b = Math.min(t1, span * 2);
        var l = latencyData(ops, a, b, buckets);
        self.latency.setData(l.data, false);
        latNote.textContent = l.sampled ? l.inView + ' ops in view: showing the slowest per bucket and outcome; zoom in to see every point' : '';
        self.throughput.setData(throughputData(ops, a, b, buckets, maxDur), false);
        self.all.forEach(function (u) { u.setScale('x', { min: t0 / 1000, max: t1 / 1000 }); });
      } finally { syncing = false; }
    };
    this.setRange(-span * 0.01, span * 1.01);
  }

  // ---------------------------------------------------------------- faults, nemesis, plan
  function renderFaults(view) {
    var sec = el('section', { id: 'faults' }, [el('h2', { text: 'Faults (' + meta.faults.length + ')' })]);
    if (!meta.faults.length) { sec.appendChild(el('p', { class: 'muted', text: 'No fault was applied.' })); return sec; }
    sec.appendChild(el('table', null, [el('tr', null, ['kind', 'nodes', 'from', 'to', 'for', 'what', ''].map(function (h) { return el('th', { text: h }); }))].concat(
      meta.faults.map(function (f) {
        return el('tr', { class: 'fault-row' }, [el('td', null, [el('span', { class: 'swatch', style: 'background:' + faultColor(f.kind) }), f.kind]), el('td', { text: f.nodes.join(', ') }),
          el('td', { text: fmtMs(f.startMs) }), el('td', { text: f.open ? 'end (never healed)' : fmtMs(f.endMs) }), el('td', { text: fmtMs(f.endMs - f.startMs) }),
          el('td', { text: f.description }), el('td', null, [el('button', { text: 'show', onclick: function () { var pad = (f.endMs - f.startMs) * 0.2 + 1; view.setRange(f.startMs - pad, f.endMs + pad); } })])]);
      }))));
    var ev = meta.nemesis;
    sec.appendChild(el('details', null, [el('summary', { text: ev.length + ' nemesis events' }), el('table', null, [el('tr', null, ['event', 'at', 'type', 'f', 'value'].map(function (h) { return el('th', { text: h }); }))].concat(
      ev.slice(0, 1000).map(function (e) { return el('tr', null, [el('td', { text: String(e.index) }), el('td', { text: fmtMs(e.atMs) }), el('td', { text: e.type }), el('td', { text: e.f }), el('td', { class: 'mono', text: clip(JSON.stringify(e.value), 300) })]); })))]));
    return sec;
  }

  // ---------------------------------------------------------------- main
  async function main() {
    var mark = function (name) { state.timings[name] = Math.round(performance.now()); };
    state.timings = {};
    mark('start');
    var ops = await loadOps();
    mark('decoded');
    state.ops = ops.cols.count;
    app.innerHTML = '';
    app.appendChild(header(ops.cols));
    var view = {};
    var checksSec = el('section', { id: 'checks-placeholder' });
    app.appendChild(checksSec);
    var tlSec = el('section', { id: 'timeline-section' }, [el('h2', { text: 'Timeline: one lane per client worker, every operation' })]);
    app.appendChild(tlSec);
    var chartsSec = el('section', { id: 'charts', class: 'charts' }, [el('h2', { text: 'Latency, throughput and clocks (fault windows shaded)' })]);
    app.appendChild(chartsSec);
    var charts = null;
    var timeline = new Timeline(ops, function (t0, t1) { if (charts) charts.setRange(t0, t1); rangeText(); });
    var rangeBox = el('span', { class: 'muted mono', id: 'range' });
    function rangeText() { rangeBox.textContent = fmtMs(timeline.view.t0) + ' – ' + fmtMs(timeline.view.t1) + ' (' + state.opsDrawn + ' ops in view)'; }
    var find = el('input', { placeholder: 'event #', id: 'find-op' });
    var detail = el('div', { id: 'detail', class: 'muted', text: 'Hover over an operation to see it; click to keep it here. Wheel zooms, drag pans, double-click resets.' });
    tlSec.appendChild(el('div', { class: 'toolbar' }, [
      el('button', { text: 'zoom in', onclick: function () { zoomBy(0.5); } }), el('button', { text: 'zoom out', onclick: function () { zoomBy(2); } }),
      el('button', { text: 'whole run', id: 'reset-zoom', onclick: function () { timeline.reset(); } }),
      find, el('button', { text: 'find', onclick: function () { var ix = Number(find.value); if (find.value !== '' && isFinite(ix)) view.focusIndex(ix); } }), rangeBox,
    ]));
    tlSec.appendChild(el('div', { class: 'legend' }, [['ok', COLOR.ok], ['fail', COLOR.fail], ['info', COLOR.info], ['open (never completed)', COLOR.open], ['not looked at by any checker', COLOR.grey], ['in a checker\'s evidence', COLOR.evidence]].map(function (p) {
      return el('span', null, [el('span', { class: 'swatch', style: 'background:' + p[1] }), p[0]]);
    }).concat(Object.keys(meta.faults.reduce(function (m, f) { m[f.kind] = 1; return m; }, {})).map(function (k) { return el('span', null, [el('span', { class: 'swatch', style: 'background:' + rgba(faultColor(k), 0.5) }), k + ' window']); }))));
    tlSec.appendChild(timeline.el);
    tlSec.appendChild(detail);
    function zoomBy(f) { var v = timeline.view, m = (v.t0 + v.t1) / 2; timeline.setView(m - (m - v.t0) * f, m + (v.t1 - m) * f); }
    timeline.onPick = function (row) {
      detail.className = '';
      detail.innerHTML = '';
      describeOp(ops, row, timeline.evidence.has(row)).forEach(function (line, k) { detail.appendChild(el('div', { class: k === 2 ? 'why' : '', text: line })); });
    };
    view.setRange = function (t0, t1) { timeline.setView(t0, t1); };
    view.focusIndexes = function (indexes) {
      var rows = indexes.map(timeline.rowOfIndex).filter(function (r) { return r >= 0; });
      if (!rows.length) return;
      var a = Infinity, b = -Infinity;
      rows.forEach(function (r) { a = Math.min(a, ops.cols.start[r]); b = Math.max(b, ops.cols.start[r] + Math.max(0, ops.cols.dur[r])); });
      var pad = (b - a) * 0.15 + 0.5;
      timeline.setView(a - pad, b + pad);
      timeline.onPick(rows[0]);
      timeline.el.scrollIntoView({ block: 'center' });
    };
    view.focusIndex = function (ix) { view.focusIndexes([ix]); };
    mark('timeline-built');
    var checks = renderChecks(ops, view);
    app.replaceChild(checks, checksSec);
    timeline.resize();
    mark('timeline-drawn');
    charts = new Charts(ops, chartsSec, function (t0, t1) { timeline.setView(t0, t1); });
    mark('charts');
    rangeText();
    app.appendChild(renderFaults(view));
    app.appendChild(el('section', { id: 'plan' }, [el('h2', { text: 'Plan' }), el('pre', { text: meta.plan ? JSON.stringify(meta.plan, null, 2) : 'no plan.json' })]));
    app.appendChild(el('p', { class: 'muted', text: 'Built ' + meta.generatedAt + ' by faultline from ' + meta.runDir + ' (' + meta.events + ' events). Rebuild with: faultline report ' + meta.runDir }));
    var resizeTimer = 0;
    window.addEventListener('resize', function () {
      clearTimeout(resizeTimer);
      resizeTimer = setTimeout(function () {
        timeline.resize();
        var w = Math.max(300, chartsSec.clientWidth - 10);
        charts.all.forEach(function (u) { u.setSize({ width: w, height: 230 }); });
      }, 150);
    });
    state.timeline = timeline;
    state.charts = charts;
    state.view = view;
    requestAnimationFrame(function () {
      state.renderedAtMs = performance.now();
      state.ready = true;
      document.body.setAttribute('data-rendered', '1');
    });
  }

  main().catch(function (err) {
    state.errors.push(String(err && err.stack || err));
    console.error(err);
    app.innerHTML = '';
    app.appendChild(el('div', { class: 'error-box', text: 'Cannot show the report: ' + (err && err.message || err) }));
  });
})();
