// The live dashboard: asks for an admin key, reads /metrics/stream, draws what it says.
"use strict";
(() => {
  const KEY_SLOT = "ebuse.adminKey"; // sessionStorage only: gone when the tab closes
  const HISTORY = 300;               // points kept per series: 5 minutes at one a second
  const MIN_SPAN = 60;               // a chart spans at least a minute
  const STALE_MS = 3500;
  const PALETTE = ["#2f6fed", "#1f9d55", "#d98b00", "#9b51e0", "#e5484d", "#0ea5b7",
                   "#7c8a1a", "#d9468f"];
  const SVG = "http://www.w3.org/2000/svg";
  const $ = (id) => document.getElementById(id);

  let controller = null;
  let retry = null;
  let backoff = 1000;
  let lastUpdate = 0;
  const colors = new Map();
  const hist = { times: [], events: new Map(), commits: new Map(), p50: [], p99: [],
                 conns: [], denied: [] };

  // -- formatting ------------------------------------------------------------------

  function fmt(n, digits) {
    if (n === null || n === undefined || Number.isNaN(n)) return "–";
    const abs = Math.abs(n);
    if (abs >= 1e9) return (n / 1e9).toFixed(1) + "G";
    if (abs >= 1e6) return (n / 1e6).toFixed(abs >= 1e7 ? 1 : 2) + "M";
    if (abs >= 1e4) return (n / 1e3).toFixed(abs >= 1e5 ? 0 : 1) + "k";
    if (abs >= 100 || Number.isInteger(n)) return Math.round(n).toLocaleString("en-US");
    return n.toFixed(digits === undefined ? 1 : digits);
  }
  const count = (n) => (n === null || n === undefined ? "–" : n.toLocaleString("en-US"));
  function ms(v) {
    if (v === null || v === undefined) return "–";
    if (v >= 1000) return (v / 1000).toFixed(2) + " s";
    if (v >= 10) return v.toFixed(0) + " ms";
    if (v >= 1) return v.toFixed(1) + " ms";
    return (v * 1000).toFixed(0) + " µs";
  }
  function bytes(n) {
    if (n === null || n === undefined) return "–";
    const units = ["B", "KiB", "MiB", "GiB", "TiB"];
    let i = 0;
    while (n >= 1024 && i < units.length - 1) { n /= 1024; i++; }
    return (i === 0 ? n.toFixed(0) : n.toFixed(n >= 100 ? 0 : 1)) + " " + units[i];
  }
  function duration(s) {
    const d = Math.floor(s / 86400), h = Math.floor(s / 3600) % 24, m = Math.floor(s / 60) % 60;
    if (d > 0) return d + "d " + h + "h";
    if (h > 0) return h + "h " + m + "m";
    return m + "m " + Math.floor(s % 60) + "s";
  }
  function colorOf(name) {
    if (!colors.has(name)) colors.set(name, PALETTE[colors.size % PALETTE.length]);
    return colors.get(name);
  }

  // -- DOM helpers (text only: names and ids come from clients) --------------------

  function el(tag, cls, text) {
    const e = document.createElement(tag);
    if (cls) e.className = cls;
    if (text !== undefined) e.textContent = text;
    return e;
  }
  function cell(row, text, cls, value) {
    const td = el("td", cls, text);
    if (value !== undefined && value !== null) td.dataset.value = String(value);
    row.appendChild(td);
    return td;
  }
  function svgEl(tag, attrs) {
    const e = document.createElementNS(SVG, tag);
    for (const [k, v] of Object.entries(attrs)) e.setAttribute(k, v);
    return e;
  }
  function setTile(id, value, sub) {
    $(id).textContent = value;
    $(id + "-sub").textContent = sub || "";
  }

  // -- connection --------------------------------------------------------------------

  function setStatus(state, text) {
    $("status").dataset.state = state;
    $("status-text").textContent = text;
  }

  function showLogin(message) {
    $("board").hidden = true;
    $("forget").hidden = true;
    $("login").hidden = false;
    const err = $("login-error");
    err.hidden = !message;
    err.textContent = message || "";
    $("key").value = "";
    $("key").focus();
  }

  function stop() {
    if (controller) controller.abort();
    controller = null;
    clearTimeout(retry);
  }

  // The key goes in a header: EventSource cannot send one, so the stream is read with
  // fetch(), which keeps the key out of URLs (and so out of proxy logs and history).
  function connect(key) {
    stop();
    controller = new AbortController();
    const signal = controller.signal;
    setStatus("connecting", "connecting…");
    fetch("/metrics/stream", {
      headers: { "Authorization": "Bearer " + key, "Accept": "text/event-stream" },
      cache: "no-store",
      signal,
    }).then(async (res) => {
      if (res.status === 401 || res.status === 403) {
        sessionStorage.removeItem(KEY_SLOT);
        setStatus("idle", "not connected");
        showLogin(res.status === 403
          ? "That is a tenant's key: the dashboard needs an admin key."
          : "The server did not accept this key.");
        return;
      }
      if (!res.ok || !res.body) throw new Error("HTTP " + res.status);
      $("login").hidden = true;
      $("board").hidden = false;
      $("forget").hidden = false;
      backoff = 1000;
      const reader = res.body.getReader();
      const decoder = new TextDecoder();
      let buf = "";
      for (;;) {
        const { value, done } = await reader.read();
        if (done) break;
        buf += decoder.decode(value, { stream: true });
        let end;
        while ((end = buf.indexOf("\n\n")) >= 0) {
          onEvent(buf.slice(0, end));
          buf = buf.slice(end + 2);
        }
      }
      throw new Error("the stream ended");
    }).catch((err) => {
      if (signal.aborted) return;
      setStatus("down", "disconnected, retrying in " + Math.round(backoff / 1000) + " s");
      retry = setTimeout(() => connect(key), backoff);
      backoff = Math.min(backoff * 2, 10000);
    });
  }

  function onEvent(block) {
    const data = block.split("\n").filter((l) => l.startsWith("data:"))
      .map((l) => l.slice(5).trimStart()).join("\n");
    if (!data) return;
    let snap;
    try { snap = JSON.parse(data); } catch (e) { return; }
    lastUpdate = Date.now();
    document.body.dataset.snapshots = String(Number(document.body.dataset.snapshots || 0) + 1);
    setStatus("live", "live · " + new Date(snap.time * 1000).toLocaleTimeString());
    update(snap);
  }

  setInterval(() => {
    if ($("status").dataset.state === "live" && Date.now() - lastUpdate > STALE_MS)
      setStatus("stale", "no update for " + Math.round((Date.now() - lastUpdate) / 1000) + " s");
  }, 1000);

  // -- history -----------------------------------------------------------------------

  function push(arr, v) {
    arr.push(v);
    if (arr.length > HISTORY) arr.shift();
  }

  // The first snapshot of a stream has no interval: its rates are 0 and its percentiles
  // cover the whole uptime, so it is not drawn.
  function record(snap) {
    const first = !(snap.interval > 0);
    const rate = (v) => (first ? null : v);
    push(hist.times, snap.time);
    const running = new Set();
    for (const t of snap.tenants) {
      if (!t.running) continue;
      running.add(t.name);
      for (const [key, field] of [["events", "events_per_s"], ["commits", "commits_per_s"]]) {
        if (!hist[key].has(t.name)) hist[key].set(t.name, new Array(hist.times.length - 1).fill(null));
        push(hist[key].get(t.name), rate(t[field]));
      }
    }
    for (const key of ["events", "commits"])
      for (const [name, arr] of hist[key]) {
        if (!running.has(name)) push(arr, null);
        if (!first && arr.every((v) => v === null)) hist[key].delete(name);
      }
    push(hist.p50, rate(snap.latency.appends.p50));
    push(hist.p99, rate(snap.latency.appends.p99));
    push(hist.conns, snap.connections.open);
    push(hist.denied, snap.rate_limiter ? rate(snap.rate_limiter.denied_per_s) : null);
  }

  // -- charts ------------------------------------------------------------------------

  function niceMax(v) {
    if (!(v > 0)) return 1;
    const p = Math.pow(10, Math.floor(Math.log10(v)));
    for (const m of [1, 2, 2.5, 5, 10]) if (v <= m * p) return m * p;
    return 10 * p;
  }

  // Draws `series` ([{name, color, values}]) over the kept times, newest at the right.
  function chart(id, legendId, series, format) {
    const svg = $(id);
    while (svg.firstChild) svg.removeChild(svg.firstChild);
    // Drawn in the SVG's own pixels, so that text keeps its shape at any width.
    const W = Math.max(200, svg.clientWidth || 600), H = 170, top = 8, bottom = 18, left = 0;
    svg.setAttribute("viewBox", `0 0 ${W} ${H}`);
    const n = Math.max(MIN_SPAN, hist.times.length);
    let max = 0;
    for (const s of series) for (const v of s.values) if (v !== null && v > max) max = v;
    max = niceMax(max);
    const y = (v) => top + (H - top - bottom) * (1 - v / max);
    const x = (i, len) => left + (W - left) * ((n - len + i) / (n - 1));
    for (const f of [0, 0.5, 1]) {
      svg.appendChild(svgEl("line", { x1: 0, x2: W, y1: y(max * f), y2: y(max * f), class: "gridline" }));
      const label = svgEl("text", { x: 4, y: y(max * f) - 3, class: "axis" });
      label.textContent = f === 0 ? "" : format(max * f);
      svg.appendChild(label);
    }
    const span = n >= 120 ? "−" + Math.round(n / 60) + " min" : "−" + n + " s";
    for (const [text, at] of [[span, 2], ["now", W - 2]]) {
      const t = svgEl("text", { x: at, y: H - 3, class: "axis", "text-anchor": at < 10 ? "start" : "end" });
      t.textContent = text;
      svg.appendChild(t);
    }
    const legend = $(legendId);
    legend.textContent = "";
    for (const s of series) {
      let d = "", area = "", open = false, first = 0, lastX = 0;
      s.values.forEach((v, i) => {
        if (v === null) { if (open) area += `L${lastX},${y(0)}L${first},${y(0)}Z`; open = false; return; }
        const px = x(i, s.values.length).toFixed(1), py = y(v).toFixed(1);
        d += (open ? "L" : "M") + px + "," + py;
        area += (open ? "L" : "M") + px + "," + py;
        if (!open) first = px;
        lastX = px;
        open = true;
      });
      if (open) area += `L${lastX},${y(0)}L${first},${y(0)}Z`;
      if (s.fill && area) svg.appendChild(svgEl("path", { d: area, class: "area", fill: s.color }));
      if (d) svg.appendChild(svgEl("path", { d, class: "series", stroke: s.color }));
      const item = el("span");
      const key = el("span", "key");
      key.style.background = s.color;
      const last = s.values.length ? s.values[s.values.length - 1] : null;
      item.append(key, s.name + " ", el("b", "", format(last)));
      legend.appendChild(item);
    }
  }

  function drawCharts() {
    const perTenant = (map) => [...map].map(([name, values]) => ({ name, values, color: colorOf(name), fill: map.size === 1 }));
    chart("c-events", "l-events", perTenant(hist.events), (v) => fmt(v));
    chart("c-commits", "l-commits", perTenant(hist.commits), (v) => fmt(v));
    chart("c-latency", "l-latency", [
      { name: "p50", values: hist.p50, color: "#1f9d55" },
      { name: "p99", values: hist.p99, color: "#d98b00", fill: true },
    ], ms);
    const conns = [{ name: "open connections", values: hist.conns, color: "#2f6fed", fill: true }];
    if (hist.denied.some((v) => v !== null))
      conns.push({ name: "denials/s", values: hist.denied, color: "#e5484d" });
    chart("c-conns", "l-conns", conns, (v) => fmt(v));
  }

  function sparkline(values, color) {
    const svg = svgEl("svg", { class: "spark", viewBox: "0 0 150 26", preserveAspectRatio: "none" });
    const max = Math.max(1, ...values.filter((v) => v !== null));
    const n = Math.max(MIN_SPAN, values.length);
    let d = "", open = false;
    values.forEach((v, i) => {
      if (v === null) { open = false; return; }
      d += (open ? "L" : "M") + (150 * (n - values.length + i) / (n - 1)).toFixed(1)
        + "," + (24 - 22 * v / max).toFixed(1);
      open = true;
    });
    if (d) svg.appendChild(svgEl("path", { d, stroke: color }));
    return svg;
  }

  // -- tables ------------------------------------------------------------------------

  function fill(tableId, rows) {
    const body = document.querySelector("#" + tableId + " tbody");
    body.replaceChildren(...rows);
  }

  function tenantRows(snap) {
    return snap.tenants.map((t) => {
      const row = el("tr");
      row.dataset.tenant = t.name;
      const name = cell(row, "", "name");
      const sw = el("span", "swatch");
      sw.style.background = t.running ? colorOf(t.name) : "transparent";
      name.append(sw, t.name);
      const state = cell(row, "");
      state.appendChild(el("span", "state" + (t.running ? " active" : ""), t.running ? "active" : "idle"));
      cell(row, count(t.head), "num head", t.head);
      if (!t.running) {
        for (let i = 0; i < 6; i++) cell(row, i < 5 ? "–" : "", i < 5 ? "num muted" : "");
        return row;
      }
      cell(row, fmt(t.events_per_s), "num events-rate", t.events_per_s);
      cell(row, fmt(t.commits_per_s), "num", t.commits_per_s);
      const g = t.events_per_commit;
      cell(row, g.mean === null ? "–" : fmt(g.mean) + (g.p95_at_most !== null ? " · p95 ≤ " + fmt(g.p95_at_most) : ""), "num");
      cell(row, ms(t.commit_ms.p99), "num");
      cell(row, bytes(t.wal_bytes), "num");
      cell(row, "").appendChild(sparkline(hist.events.get(t.name) || [], colorOf(t.name)));
      return row;
    });
  }

  function actorRows(snap) {
    const rows = [];
    const add = (tenant, a) => {
      const row = el("tr");
      cell(row, tenant, tenant ? "name" : "muted");
      cell(row, a.actor);
      cell(row, fmt(a.per_s), "num");
      cell(row, count(a.mailbox), "num" + (a.mailbox > 100 ? " hot" : ""), a.mailbox);
      cell(row, count(a.mailbox_peak), "num", a.mailbox_peak);
      cell(row, ms(a.p99_ms), "num");
      rows.push(row);
    };
    for (const t of snap.tenants) if (t.running) for (const a of t.actors) add(t.name, a);
    for (const a of snap.actors) add("", a);
    return rows;
  }

  function subscriptionRows(snap) {
    const items = [];
    for (const t of snap.tenants)
      if (t.running && t.subscriptions) for (const s of t.subscriptions.items) items.push([t, s]);
    items.sort((a, b) => b[1].lag - a[1].lag);
    const maxLag = Math.max(1, ...items.map(([, s]) => s.lag));
    $("subs-empty").hidden = items.length > 0;
    return items.map(([t, s]) => {
      const row = el("tr");
      row.dataset.tenant = t.name;
      cell(row, t.name, "name");
      cell(row, s.id, "name");
      cell(row, count(s.position), "num", s.position);
      cell(row, count(s.lag), "num" + (s.lag > 0 ? " hot" : ""), s.lag);
      const bar = el("div", "lagbar");
      const fillBar = el("span");
      fillBar.style.width = (100 * s.lag / maxLag).toFixed(1) + "%";
      bar.appendChild(fillBar);
      cell(row, "").appendChild(bar);
      return row;
    });
  }

  function routeRows(snap) {
    return snap.routes.map((r) => {
      const row = el("tr");
      cell(row, r.route);
      cell(row, fmt(r.per_s), "num");
      cell(row, ms(r.p50), "num");
      cell(row, ms(r.p95), "num");
      cell(row, ms(r.p99), "num");
      cell(row, count(r["4xx"]), "num");
      cell(row, count(r["5xx"]), "num" + (r["5xx"] > 0 ? " hot" : ""));
      return row;
    });
  }

  // -- one snapshot ------------------------------------------------------------------

  function update(snap) {
    record(snap);
    const tot = snap.totals;
    const idle = snap.tenants_configured - snap.tenants_active;
    setTile("t-tenants", snap.tenants_active + " / " + snap.tenants_configured,
      "active / configured" + (idle > 0 ? " · " + idle + " idle" : ""));
    setTile("t-events", fmt(tot.events_per_s), "all tenants");
    setTile("t-commits", fmt(tot.commits_per_s),
      tot.commits_per_s > 0 ? fmt(tot.events_per_s / tot.commits_per_s) + " events/commit" : "no commits");
    const app = snap.latency.appends;
    setTile("t-append", ms(app.p99), app.count > 0 ? "p50 " + ms(app.p50) : "no appends this second");
    setTile("t-requests", fmt(tot.requests_per_s), fmt(tot.errors_per_s) + " 5xx/s");
    const c = snap.connections;
    setTile("t-conns", count(c.open), c.idle + " idle · " + c.queued + " queued");
    if (snap.rate_limiter)
      setTile("t-denied", fmt(snap.rate_limiter.denied_per_s), "rate limiter · " + count(snap.rate_limiter.denied) + " in all");
    else
      setTile("t-denied", "off", "rate limiting is off");
    setTile("t-rss", bytes(snap.process.rss_bytes), snap.process.threads + " threads");
    drawCharts();
    fill("tenants", tenantRows(snap));
    fill("actors", actorRows(snap));
    fill("subs", subscriptionRows(snap));
    fill("routes", routeRows(snap));
    $("footer").textContent = "uptime " + duration(snap.uptime) + " · updated "
      + new Date(snap.time * 1000).toLocaleTimeString() + " · one snapshot a second";
  }

  // -- start -------------------------------------------------------------------------

  $("login-form").addEventListener("submit", (ev) => {
    ev.preventDefault();
    const key = $("key").value.trim();
    if (!key) return;
    sessionStorage.setItem(KEY_SLOT, key);
    $("key").value = "";
    connect(key);
  });
  $("forget").addEventListener("click", () => {
    stop();
    sessionStorage.removeItem(KEY_SLOT);
    setStatus("idle", "not connected");
    showLogin("");
  });

  const saved = sessionStorage.getItem(KEY_SLOT);
  if (saved) connect(saved);
  else showLogin("");
})();
