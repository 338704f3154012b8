// forewarn live dashboard: plain JS over the API (/v1/*) and its Server-Sent Events.
"use strict";

const state = {
  components: [], selected: null, detail: null, metric: null, events: [], prefs: [],
  heat: null, heatDue: 0, source: null,
};
const $ = (id) => document.getElementById(id);
const tokenInput = $("token");
tokenInput.value = localStorage.getItem("forewarn.token") || "";
tokenInput.addEventListener("change", () => {
  localStorage.setItem("forewarn.token", tokenInput.value);
  connect();
});

function headers(extra) {
  const h = Object.assign({}, extra || {});
  if (tokenInput.value) h.Authorization = "Bearer " + tokenInput.value;
  return h;
}

async function api(path, opts) {
  const o = Object.assign({}, opts || {});
  o.headers = headers(o.headers);
  const r = await fetch(path, o);
  const text = await r.text();
  const body = text ? JSON.parse(text) : null;
  if (!r.ok) throw new Error((body && body.detail ? JSON.stringify(body.detail) : r.status));
  return body;
}

const fmtTime = (ms) => ms == null ? "" : new Date(ms).toISOString().slice(5, 16).replace("T", " ");
const signed = (x) => (x >= 0 ? "+" : "") + +x.toFixed(2);  // over the baseline
const fmtRisk = (r) => r == null ? "–" : r.toFixed(2);
const fmtFor = (ms) => ms < 60000 ? "under 1 min" : ms < 3600000
  ? `${Math.round(ms / 60000)} min` : `${(ms / 3600000).toFixed(1)} h`;
const esc = (s) => String(s).replace(/[&<>"']/g, (c) => ({
  "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" }[c]));

function riskColor(r) {
  if (r == null) return "#eceff1";
  const a = Math.max(0, Math.min(1, r));
  const mix = (x, y, t) => Math.round(x + (y - x) * t);
  const [c1, c2, t] = a < 0.5 ? [[46, 125, 50], [249, 168, 37], a / 0.5]
    : [[249, 168, 37], [198, 40, 40], (a - 0.5) / 0.5];
  return `rgb(${mix(c1[0], c2[0], t)},${mix(c1[1], c2[1], t)},${mix(c1[2], c2[2], t)})`;
}

// ---- components table, leases -------------------------------------------------------------

function pageCell(c) {
  // the page (alarm): null is unknown (events written before s29), never "not firing"
  if (c.alarm == null) {
    return '<td class="page unknown" title="no page state in its events">unknown</td>';
  }
  if (!c.alarm) return '<td class="page quiet">–</td>';
  const since = fmtTime(c.alarm_since_ms);
  return `<td class="page firing" title="firing since ${since} UTC (event time)">● since ${
    since} (${fmtFor(c.ts - c.alarm_since_ms)})</td>`;
}

function renderComponents() {
  const tbody = $("components").querySelector("tbody");
  const rows = state.components.map((c) => {
    const b = c.breach;
    const breach = b ? `${esc(b.metric)} in ${(b.eta_s / 60).toFixed(1)} min, p=${
      b.probability.toFixed(2)}` : "–";
    const leases = c.leases.map((l) => `${l.resource} ${+l.amount.toFixed(2)} ${l.unit}`)
      .join(", ") || "–";
    const model = c.model ? `${c.model.warm ? "warm" : "cold"}/${c.model.source}` : "–";
    const width = Math.round((c.risk || 0) * 60);
    return `<tr data-id="${esc(c.id)}" class="${c.id === state.selected ? "sel" : ""}${
      c.alarm ? " firing" : ""}">
      <td>${esc(c.id)}</td>${pageCell(c)}<td class="risk">${fmtRisk(c.risk)}<span class="bar"
      style="width:${width}px;background:${riskColor(c.risk)}"></span></td>
      <td>${fmtRisk(c.peak_risk)}</td><td class="${c.health}">${c.health}</td>
      <td>${breach}</td><td>${esc(leases)}</td><td>${model}</td></tr>`;
  });
  tbody.innerHTML = rows.join("");
  const held = [];
  for (const c of state.components) for (const l of c.leases) held.push([c.id, l]);
  $("fleet-leases").innerHTML = held.length ? held.map(([id, l]) =>
    `<li>${esc(id)}: ${l.resource} ${signed(l.amount)} ${esc(l.unit)} until ${
      fmtTime(l.until_ms)}</li>`).join("") : '<li class="none">none</li>';
}

$("components").addEventListener("click", (e) => {
  const tr = e.target.closest("tr[data-id]");
  if (tr) select(tr.dataset.id);
});

// ---- heat map -----------------------------------------------------------------------------

function drawHeat() {
  const canvas = $("heatmap");
  const heat = state.heat;
  if (!heat) return;
  const rowH = 16, label = 150, n = heat.rows.length;
  const buckets = n ? heat.rows[0].risk.length : 60;
  canvas.width = canvas.clientWidth || 900;
  canvas.height = Math.max(40, n * rowH + 18);
  const ctx = canvas.getContext("2d");
  ctx.clearRect(0, 0, canvas.width, canvas.height);
  const cw = (canvas.width - label) / buckets;
  ctx.font = "11px system-ui, sans-serif";
  const firing = new Set(state.components.filter((c) => c.alarm).map((c) => c.id));
  heat.rows.forEach((row, i) => {
    ctx.fillStyle = row.id === state.selected ? "#1565c0"
      : firing.has(row.id) ? "#c62828" : "#222";
    ctx.fillText((firing.has(row.id) ? "● " : "") + row.id, 4, i * rowH + 12);
    row.risk.forEach((r, j) => {
      ctx.fillStyle = riskColor(r);
      ctx.fillRect(label + j * cw, i * rowH + 1, Math.ceil(cw), rowH - 2);
    });
  });
  ctx.fillStyle = "#666";
  ctx.fillText(`-${buckets * heat.bucket_s / 60} min`, label, n * rowH + 13);
  ctx.fillText("now", canvas.width - 24, n * rowH + 13);
  canvas.onclick = (e) => {
    const i = Math.floor(e.offsetY / rowH);
    if (heat.rows[i]) select(heat.rows[i].id);
  };
}

async function refreshHeat() {
  try {
    state.heat = await api("v1/heatmap?buckets=60&bucket_s=60&top=40");
    drawHeat();
  } catch (e) { /* shown by the status pill */ }
}

// ---- events -------------------------------------------------------------------------------

function addEvents(allocs, outs) {
  for (const a of allocs) state.events.push({ ts: a.ts, kind: "alloc", rec: a });
  for (const o of outs) state.events.push({ ts: o.ts, kind: "out", rec: o });
  state.events.sort((x, y) => y.ts - x.ts || (x.kind === "out") - (y.kind === "out"));
  state.events.length = Math.min(state.events.length, 300);
  $("events").innerHTML = state.events.map(({ kind, rec }) => kind === "alloc"
    ? `<li>${fmtTime(rec.ts)} ${rec.action} ${rec.resource} ${+rec.amount.toFixed(2)} ${
      esc(rec.unit)} → ${esc(rec.component)} (risk ${rec.risk.toFixed(2)}) ${esc(rec.reason)}</li>`
    : `<li>${fmtTime(rec.ts)} ${rec.status} by ${esc(rec.backend)} ${esc(rec.component)} ${
      esc(rec.detail)}</li>`).join("");
}

function renderPrefs() {
  $("prefs").innerHTML = state.prefs.map((p) => `<li>${esc(p.selector)}: criticality ${
    p.criticality}${p.paused ? ", PAUSED" : ""}${Object.keys(p.maxima).length ? ", max " +
    esc(JSON.stringify(p.maxima)) : ""}</li>`).join("") || '<li class="none">none</li>';
}

// ---- per component ------------------------------------------------------------------------

async function select(id) {
  state.selected = id;
  renderComponents();
  drawHeat();
  try {
    state.detail = await api(`v1/components/${encodeURI(id)}/risk`);
  } catch (e) { return; }
  const d = state.detail;
  const withData = new Set();
  for (const p of d.metrics) for (const k of Object.keys(p.values)) withData.add(k);
  const last = d.points[d.points.length - 1];
  const breachMetric = last && last.breach ? last.breach.metric : null;
  const metrics = [...withData].sort();
  state.metric = breachMetric && withData.has(breachMetric) ? breachMetric
    : (metrics.includes(state.metric) ? state.metric : metrics[0] || breachMetric);
  $("metric-select").innerHTML = metrics.map((m) =>
    `<option ${m === state.metric ? "selected" : ""}>${esc(m)}</option>`).join("");
  $("detail").hidden = false;
  drawDetail();
}

$("metric-select").addEventListener("change", (e) => { state.metric = e.target.value; drawDetail(); });

let charts = [];

function markersPlugin(d) {
  // allocations and outcomes as markers, and the forecast breach time as a dashed line
  return { hooks: { draw: [(u) => {
    const ctx = u.ctx, top = u.bbox.top, h = u.bbox.height;
    ctx.save();
    for (const a of d.allocations) {
      const x = u.valToPos(a.ts / 1000, "x", true);
      ctx.fillStyle = a.action === "GRANT" ? "#1565c0" : "#6a1b9a";
      ctx.font = `${12 * devicePixelRatio}px sans-serif`;
      ctx.fillText(a.action === "GRANT" ? "▲" : "▼", x - 5, top + h - 4);
    }
    for (const o of d.outcomes) {
      const x = u.valToPos(o.ts / 1000, "x", true);
      ctx.fillStyle = o.status === "APPLIED" ? "#2e7d32" : "#ef6c00";
      ctx.beginPath(); ctx.arc(x, top + 8, 3 * devicePixelRatio, 0, 7); ctx.fill();
    }
    const last = d.points[d.points.length - 1];
    if (last && last.breach) {
      const x = u.valToPos((last.ts + last.breach.eta_s * 1000) / 1000, "x", true);
      ctx.strokeStyle = "#c62828"; ctx.setLineDash([4, 4]);
      ctx.beginPath(); ctx.moveTo(x, top); ctx.lineTo(x, top + h); ctx.stroke();
    }
    ctx.restore();
  }] } };
}

function pagePlugin(pts) {
  // the windows the page fired, shaded behind the risk (each until the next window)
  return { hooks: { drawClear: [(u) => {
    const ctx = u.ctx, top = u.bbox.top, h = u.bbox.height;
    ctx.save();
    ctx.fillStyle = "rgba(198,40,40,0.16)";
    pts.forEach((p, i) => {
      if (p.alarm !== true) return;
      const end = i + 1 < pts.length ? pts[i + 1].ts : p.ts + 60000;
      const x0 = u.valToPos(p.ts / 1000, "x", true), x1 = u.valToPos(end / 1000, "x", true);
      ctx.fillRect(x0, top, Math.max(1, x1 - x0), h);
    });
    ctx.restore();
  }] } };
}

function pageLine(d, last) {
  if (d.alarm == null) {
    return '<span class="page unknown">page: unknown</span> (its events carry no page state: ' +
      "written before s29, or alarm_hold_s 0)";
  }
  if (!d.alarm) return '<span class="page quiet">no page</span>';
  const held = (last ? last.ts : d.alarm_since_ms) - d.alarm_since_ms;
  return `<b class="page firing">● PAGE FIRING</b> since ${fmtTime(d.alarm_since_ms)} UTC ` +
    `(event time; ${fmtFor(held)} so far)`;
}

function drawDetail() {
  const d = state.detail;
  if (!d) return;
  const last = d.points[d.points.length - 1];
  $("detail-title").textContent = d.component;
  $("page").innerHTML = pageLine(d, last);
  $("breach").innerHTML = last && last.breach
    ? `<b class="FAIL">forecast breach</b>: ${esc(last.breach.metric)} crosses ${
      last.breach.threshold} at ${fmtTime(last.ts + last.breach.eta_s * 1000)} (in ${
      (last.breach.eta_s / 60).toFixed(1)} min, p=${last.breach.probability.toFixed(2)})`
    : "no breach forecast";
  const comp = state.components.find((c) => c.id === d.component);
  const leases = comp ? comp.leases : [];
  $("leases").innerHTML = leases.map((l) => `<li>${l.resource} ${signed(l.amount)} ${
    esc(l.unit)} since ${fmtTime(l.since_ms)} until ${fmtTime(l.until_ms)}</li>`).join("")
    || '<li class="none">none</li>';
  for (const c of charts) c.destroy();
  charts = [];
  const width = Math.max(360, $("detail").clientWidth - 10);
  const m = state.metric;
  // metric chart: values, thresholds, and the latest forecast band ahead of them
  const xs = new Map();
  for (const p of d.metrics) if (m in p.values) xs.set(p.ts, { v: p.values[m] });
  if (last) {
    for (const f of last.forecasts) if (f.metric === m) {
      const t = last.ts + f.horizon_s * 1000;
      xs.set(t, Object.assign(xs.get(t) || {}, { mean: f.mean, lo: f.lower, hi: f.upper }));
    }
    if (xs.size && last.forecasts.some((f) => f.metric === m)) {
      // the band starts at the last value
      const lastPt = [...d.metrics].reverse().find((p) => m in p.values);
      if (lastPt) Object.assign(xs.get(lastPt.ts), { mean: lastPt.values[m],
        lo: lastPt.values[m], hi: lastPt.values[m] });
    }
  }
  const ts = [...xs.keys()].sort((a, b) => a - b);
  const th = d.thresholds[m] || {};
  const col = (k) => ts.map((t) => xs.get(t)[k] ?? null);
  const metricData = [ts.map((t) => t / 1000), col("v"), col("mean"), col("lo"), col("hi"),
    ts.map(() => th.warn ?? null), ts.map(() => th.fail ?? null)];
  charts.push(new uPlot({
    title: `${m || "no metric"} against its thresholds, with the forecast band`, width,
    height: 210, plugins: [markersPlugin(d)],
    series: [{}, { label: m, stroke: "#263238", width: 2, spanGaps: true },
      { label: "forecast", stroke: "#1565c0", dash: [5, 3], spanGaps: true },
      { label: "lower", stroke: "#90caf9", spanGaps: true },
      { label: "upper", stroke: "#90caf9", spanGaps: true },
      { label: "warn", stroke: "#ef6c00", dash: [2, 2] },
      { label: "fail", stroke: "#c62828", dash: [2, 2] }],
    bands: [{ series: [4, 3], fill: "rgba(21,101,192,0.12)" }],
  }, metricData, $("metric-chart")));
  // risk chart
  const pts = d.points;
  charts.push(new uPlot({
    title: "risk of a FAIL within the horizon", width, height: 160,
    plugins: [pagePlugin(pts), markersPlugin(d)], scales: { y: { range: [0, 1] } },
    series: [{}, { label: "risk", stroke: "#c62828", width: 2, fill: "rgba(198,40,40,0.08)" },
      { label: "anomaly", stroke: "#8d6e63" }],
  }, [pts.map((p) => p.ts / 1000), pts.map((p) => p.risk), pts.map((p) => p.anomaly)],
  $("risk-chart")));
}

async function feedback(verdict) {
  const d = state.detail;
  const last = d && d.points[d.points.length - 1];
  if (!last) return;
  try {
    await api("v1/feedback", { method: "POST", headers: { "Content-Type": "application/json" },
      body: JSON.stringify({ component: d.component, ts: last.ts, verdict }) });
    $("fb-result").textContent = `sent: ${verdict} at ${fmtTime(last.ts)}`;
  } catch (e) { $("fb-result").textContent = "failed: " + e.message; }
}
$("fb-fp").addEventListener("click", () => feedback("FALSE_POSITIVE"));
$("fb-tp").addEventListener("click", () => feedback("TRUE_POSITIVE"));

$("pref-form").addEventListener("submit", async (e) => {
  e.preventDefault();
  const sel = $("pref-selector").value.trim();
  const body = { criticality: +$("pref-criticality").value, paused: $("pref-paused").checked };
  try {
    const rec = await api(`v1/preferences/${encodeURIComponent(sel)}`, { method: "PUT",
      headers: { "Content-Type": "application/json" }, body: JSON.stringify(body) });
    $("pref-result").textContent = `set ${rec.selector}: criticality ${rec.criticality}${
      rec.paused ? ", paused" : ""}`;
  } catch (err) { $("pref-result").textContent = "failed: " + err.message; }
});

// ---- live updates -------------------------------------------------------------------------

function onUpdate(u) {
  state.components = u.components;
  state.prefs = u.preferences;
  // each host's clock is its own: show the riskiest component's
  const top = u.components.find((c) => c.ts != null);
  $("clock").textContent = top ? `event time ${fmtTime(top.ts)} UTC (${top.id})` : "";
  $("count").textContent = `${u.components_total} components`;
  $("paging").textContent = u.paging_total ? `${u.paging_total} paging` : "no page firing";
  $("paging").className = u.paging_total ? "pill page-on" : "pill page-off";
  renderComponents();
  renderPrefs();
  addEvents(u.allocations, u.outcomes);
  if (state.detail) {
    const id = state.detail.component;
    const mine = u.risks.filter((r) => r.component === id);
    const allocs = u.allocations.filter((a) => a.component === id);
    const outs = u.outcomes.filter((o) => o.component === id);
    if (mine.length || allocs.length || outs.length) select(id);
  } else if (!state.selected && u.components.length && u.components[0].risk != null) {
    select(u.components[0].id);
  }
  const now = Date.now();
  if (u.risks.length && now >= state.heatDue) { state.heatDue = now + 2000; refreshHeat(); }
}

function connect() {
  if (state.source) state.source.close();
  const q = tokenInput.value ? "?access_token=" + encodeURIComponent(tokenInput.value) : "";
  const src = new EventSource("v1/events" + q);
  state.source = src;
  src.addEventListener("update", (e) => onUpdate(JSON.parse(e.data)));
  src.onopen = () => { $("status").textContent = "live"; $("status").className = "pill on"; };
  src.onerror = () => {
    $("status").textContent = "reconnecting…"; $("status").className = "pill off";
  };
  refreshHeat();
}

window.addEventListener("resize", () => { drawHeat(); drawDetail(); });
connect();
setInterval(refreshHeat, 10000);
