// The mock Site24x7's live page: polls /_emulator/summary every second and re-reads the
// timeline, top tables and uploads when the data's version changes. Everything shown comes
// from the JSON endpoints; text from uploads is only ever set as textContent.
'use strict';

(() => {
  const POLL_MS = 1000;
  const ACTION = [['ACCEPT', '#1f9d55'], ['REJECT', '#d64545'], ['-', '#98a2b3']];
  const STATUS = [['OK', '#2e6fdb'], ['NODATA', '#98a2b3'], ['SKIPDATA', '#e08a00'], ['-', '#d0d5dd']];

  const $ = (selector) => document.querySelector(selector);
  const number = (n) => (n === null || n === undefined ? '–' : Number(n).toLocaleString('en-US'));
  const utc = (ms) => new Date(ms).toISOString();
  const state = { version: null, query: null, charts: null, timer: null, busy: false, again: false };

  function element(tag, text, className) {
    const el = document.createElement(tag);
    if (text !== undefined) el.textContent = text;
    if (className) el.className = className;
    return el;
  }

  // Large byte sums read better in units; the exact figure stays in data-value and the tooltip.
  function bytes(n) {
    const units = ['B', 'kB', 'MB', 'GB', 'TB', 'PB'];
    let value = Number(n);
    let unit = 0;
    while (value >= 1000 && unit < units.length - 1) {
      value /= 1000;
      unit += 1;
    }
    return unit === 0 ? `${value} B` : `${value.toFixed(1)} ${units[unit]}`;
  }

  function setFigure(name, value, format = number) {
    for (const el of document.querySelectorAll(`[data-figure="${name}"]`)) {
      el.dataset.value = String(value);
      el.textContent = format(value);
      el.title = number(value);
    }
  }

  function currentFilter() {
    const params = new URLSearchParams();
    const logType = $('#log-type').value;
    const agent = $('#agent').value;
    if (logType) params.set('log_type', logType);
    if (agent) params.set('agent', agent);
    const text = params.toString();
    return text ? `?${text}` : '';
  }

  async function getJson(path) {
    const response = await fetch(path, { cache: 'no-store' });
    if (!response.ok) throw new Error(`${path} answered ${response.status}: ${await response.text()}`);
    return response.json();
  }

  // A select shows only when there is a choice; a chosen value stays listed.
  function fillSelect(select, wrapper, values, chosen) {
    const all = [...values];
    if (chosen && !all.includes(chosen)) all.push(chosen);
    const wanted = ['', ...all].join('\n');
    if (select.dataset.options !== wanted) {
      select.replaceChildren(element('option', '(all)'), ...all.map((v) => element('option', v)));
      select.options[0].value = '';
      select.dataset.options = wanted;
    }
    select.value = chosen || '';
    wrapper.hidden = all.length < 2;
  }

  function renderSummary(s) {
    const st = s.stats;
    for (const name of ['records', 'requests', 'raw_bytes', 'gzip_bytes', 'log_size', 'connection_resets']) {
      setFigure(name, st[name]);
    }
    $('#ratio').textContent = st.raw_bytes > 0 && st.gzip_bytes > 0
      ? `${(st.raw_bytes / st.gzip_bytes).toFixed(1)}× smaller than JSON` : '';
    $('#answers').replaceChildren(...s.answers.map((a) => {
      const li = element('li', `${a.answer}: ${number(a.uploads)}`);
      li.dataset.answer = a.answer;
      li.dataset.value = String(a.uploads);
      li.dataset.kind = a.answer.split(' ')[1] || (a.answer === '200' ? 'ok' : 'other');
      return li;
    }));
    const r = s.records;
    setFigure('shown.records', r.records);
    setFigure('shown.bytes', r.bytes, bytes);
    setFigure('shown.packets', r.packets);
    for (const [name] of ACTION) setFigure(`action.${name}`, r.action[name]);
    for (const [name] of STATUS) setFigure(`log_status.${name}`, r.log_status[name]);
    $('#span').textContent = r.first_ms === null ? 'no records yet'
      : `_zl_timestamp from ${utc(r.first_ms)} to ${utc(r.last_ms)}`
        + (r.untimed ? `; ${number(r.untimed)} records with a timestamp too large to chart` : '');
    fillSelect($('#log-type'), $('#log-type-filter'), s.log_types, s.filter.log_type);
    fillSelect($('#agent'), $('#agent-filter'), s.agents, s.filter.agent);
    const scope = [];
    if (s.filter.log_type) scope.push(`log type ${s.filter.log_type}`);
    if (s.filter.agent) scope.push(`s247agentuid ${s.filter.agent}`);
    $('#records-scope').textContent = scope.length ? `(${scope.join(', ')})` : '(all agents)';
    $('#filter-note').textContent = s.filter.log_type && s.filter.log_type !== s.log_type
      ? `the mock accepts log type ${s.log_type} only: uploads of other types were refused` : '';
  }

  function bucketLabel(ms, width) {
    const iso = utc(ms);
    return width >= 86400000 ? iso.slice(0, 10) : iso.slice(5, 16).replace('T', ' ');
  }

  function makeChart(canvas, series) {
    return new Chart(canvas, {
      type: 'bar',
      data: {
        labels: [],
        datasets: series.map(([label, color]) => ({ label, data: [], backgroundColor: color })),
      },
      options: {
        animation: false,
        responsive: true,
        maintainAspectRatio: false,
        scales: {
          x: { stacked: true, ticks: { maxRotation: 0, autoSkipPadding: 12 } },
          y: { stacked: true, beginAtZero: true, title: { display: true, text: 'records' } },
        },
        plugins: { legend: { position: 'bottom' } },
      },
    });
  }

  function renderTimeline(t) {
    if (!state.charts) {
      state.charts = {
        action: makeChart($('#chart-action'), ACTION),
        status: makeChart($('#chart-status'), STATUS),
      };
    }
    const labels = t.buckets.map((b) => bucketLabel(b.start_ms, t.bucket_ms));
    const width = `(UTC, ${t.bucket_ms >= 3600000 ? `${t.bucket_ms / 3600000} h` : `${t.bucket_ms / 60000} min`} buckets)`;
    for (const [key, series, field, caption] of [
      ['action', ACTION, 'action', '#bucket-action'],
      ['status', STATUS, 'log_status', '#bucket-status'],
    ]) {
      const chart = state.charts[key];
      chart.data.labels = labels;
      series.forEach(([name], i) => {
        chart.data.datasets[i].data = t.buckets.map((b) => b[field][name]);
      });
      chart.update('none');
      $(caption).textContent = width;
    }
  }

  function fillTable(selector, rows, cells) {
    const body = $(`${selector} tbody`);
    if (rows.length === 0) {
      const td = element('td', 'none yet', 'empty');
      td.colSpan = 3;
      const tr = element('tr');
      tr.append(td);
      body.replaceChildren(tr);
      return;
    }
    body.replaceChildren(...rows.map((row, i) => {
      const tr = element('tr');
      tr.append(element('td', String(i + 1)), ...cells(row));
      return tr;
    }));
  }

  const approx = (value, error) => (error > 0 ? `≤ ${number(value)}` : number(value));

  function talkerCells(row) {
    const pair = element('td', `${row.src} → ${row.dst}`, 'addr');
    pair.dataset.src = row.src;
    pair.dataset.dst = row.dst;
    const value = element('td', approx(row.value, row.error), 'num');
    value.dataset.value = String(row.value);
    return [pair, value];
  }

  function renderTop(t) {
    const top = t.top;
    fillTable('#talkers-bytes', top.talkers_by_bytes, talkerCells);
    fillTable('#talkers-packets', top.talkers_by_packets, talkerCells);
    fillTable('#rejected-ports', top.rejected_ports, (row) => {
      const port = element('td', row.port);
      port.dataset.port = row.port;
      const n = element('td', approx(row.records, row.error), 'num');
      n.dataset.value = String(row.records);
      return [port, n];
    });
    fillTable('#protocols', top.protocols, (row) => {
      const name = element('td', row.name ? `${row.name} (${row.protocol})` : row.protocol);
      name.dataset.protocol = row.protocol;
      const n = element('td', approx(row.records, row.error), 'num');
      n.dataset.value = String(row.records);
      return [name, n];
    });
    $('#exactness').textContent = top.exact ? ''
      : 'Some tables hold more keys than they keep: figures marked ≤ may be over by at most the weight of the key they replaced.';
  }

  function renderUploads(u) {
    const body = $('#uploads tbody');
    if (u.uploads.length === 0) {
      const td = element('td', 'no uploads yet', 'empty');
      td.colSpan = 8;
      const tr = element('tr');
      tr.append(td);
      body.replaceChildren(tr);
      return;
    }
    body.replaceChildren(...u.uploads.map((up) => {
      const tr = element('tr');
      tr.dataset.outcome = up.outcome;
      tr.dataset.seq = String(up.seq);
      const delay = up.delay_ms ? ` after ${number(up.delay_ms)} ms (delay injected)` : '';
      tr.append(
        element('td', String(up.seq), 'num'),
        element('td', utc(up.time_ms).slice(11, 23)),
        element('td', up.log_type ?? '(none)'),
        element('td', up.agents.length ? up.agents.join(', ') : '–'),
        element('td', up.outcome === 'accepted' ? number(up.records) : '–', 'num'),
        element('td', number(up.gzip_bytes), 'num'),
        element('td', number(up.log_size), 'num'),
        element('td', up.answer + delay, 'answer'),
      );
      return tr;
    }));
  }

  function setLive(ok, text) {
    const live = $('#live');
    live.dataset.state = ok ? 'live' : 'error';
    live.textContent = text;
  }

  // One poll at a time: a filter change during a poll makes the next one start at once.
  async function tick() {
    clearTimeout(state.timer);
    if (state.busy) {
      state.again = true;
      return;
    }
    state.busy = true;
    try {
      const query = currentFilter();
      const summary = await getJson(`/_emulator/summary${query}`);
      renderSummary(summary);
      if (summary.version !== state.version || query !== state.query) {
        const [timeline, top, uploads] = await Promise.all([
          getJson(`/_emulator/timeline${query}`),
          getJson(`/_emulator/top${query}`),
          getJson(`/_emulator/uploads${query}`),
        ]);
        renderTimeline(timeline);
        renderTop(top);
        renderUploads(uploads);
        state.version = summary.version;
        state.query = query;
        document.body.dataset.version = String(summary.version);
      }
      setLive(true, `live · updated ${new Date().toISOString().slice(11, 19)} UTC`);
    } catch (error) {
      setLive(false, `cannot reach the mock (${error.message}); retrying`);
    } finally {
      state.busy = false;
      state.timer = setTimeout(tick, state.again ? 0 : POLL_MS);
      state.again = false;
    }
  }

  function start() {
    $('#where').textContent = window.location.host;
    const params = new URLSearchParams(window.location.search);
    fillSelect($('#log-type'), $('#log-type-filter'), [], params.get('log_type'));
    fillSelect($('#agent'), $('#agent-filter'), [], params.get('agent'));
    for (const select of [$('#log-type'), $('#agent')]) {
      select.addEventListener('change', () => {
        const query = currentFilter();
        window.history.replaceState(null, '', query || window.location.pathname);
        tick();
      });
    }
    tick();
  }

  start();
})();
