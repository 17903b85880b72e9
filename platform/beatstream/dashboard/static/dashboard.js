/* Beatstream search dashboard: progressive enhancement of the server-rendered page.
 *
 * All state lives in the query string (search keys as /v1/search/songs takes them,
 * plus country, from, to, interval and page for the charts and pager), so a URL is a
 * bookmark and Back/Forward restore a view. The browser calls only the public /v1 API.
 * Text from the API is inserted with textContent; highlights are escaped, then only
 * <em> is restored.
 */
(function () {
  "use strict";

  const SEARCH_KEYS = ["q", "genre", "year_from", "year_to", "duration_min", "duration_max", "artist", "sort", "cursor"];
  const CHART_KEYS = ["country", "from", "to", "interval"];
  const ALL_KEYS = SEARCH_KEYS.concat(CHART_KEYS, ["page"]);
  const FILTER_LABELS = { genre: "Genre", artist: "Artist", year_from: "Year from", year_to: "Year to", duration_min: "Duration from (s)", duration_max: "Duration to (s)" };
  const PAGE_SIZE = 20;
  const DAY_MS = 86400000;
  const $ = (selector, root) => (root || document).querySelector(selector);

  /* ---- state <-> URL ---- */
  function parse(search) {
    const params = new URLSearchParams(search);
    const state = {};
    for (const key of ALL_KEYS) {
      const value = (params.get(key) || "").trim();
      if (value) state[key] = value;
    }
    return state;
  }
  function toQuery(state) {
    const params = new URLSearchParams();
    for (const key of ALL_KEYS) if (state[key]) params.set(key, state[key]);
    const text = params.toString();
    return "/dashboard" + (text ? "?" + text : "");
  }
  function pick(state, keys) {
    const out = {};
    for (const key of keys) if (state[key]) out[key] = state[key];
    return out;
  }
  const keyOf = (object) => JSON.stringify(object);
  function withChanges(state, changes, keepPage) {
    const next = Object.assign({}, state, changes);
    if (!keepPage) { delete next.cursor; delete next.page; }
    for (const key of Object.keys(next)) if (next[key] === null || next[key] === "") delete next[key];
    return next;
  }

  /* ---- fetching, with progress and problem details ---- */
  let pending = 0;
  let progressTimer = null;
  const failures = new Map();
  function busy(delta) {
    pending += delta;
    clearTimeout(progressTimer);
    if (pending > 0) progressTimer = setTimeout(() => { $("#progress").textContent = "Loading…"; }, 150);
    else { $("#progress").textContent = ""; performance.mark("dashboard:idle"); } // read by bench/dashboard.py
  }
  async function api(path, params) {
    const url = path + "?" + new URLSearchParams(params).toString();
    busy(1);
    try {
      let response;
      try {
        response = await fetch(url, { headers: { Accept: "application/json" } });
      } catch (err) {
        throw { status: 0, title: "Network error", detail: "The API did not answer: " + err.message };
      }
      const body = await response.json().catch(() => ({}));
      if (!response.ok) throw { status: response.status, title: body.title || response.statusText, detail: body.detail || "", errors: body.errors || [] };
      return body;
    } finally {
      busy(-1);
    }
  }
  function report(source, problem) {
    if (problem) failures.set(source, problem); else failures.delete(source);
    const banner = $("#banner");
    banner.replaceChildren();
    for (const [name, p] of failures) {
      const line = document.createElement("p");
      const strong = document.createElement("strong");
      const fields = (p.errors || []).map((e) => e.field + ": " + e.message).join("; ");
      strong.textContent = name + ": " + p.title + (p.status ? " (" + p.status + ")" : "") + ".";
      line.append(strong, " " + (fields || p.detail || ""));
      if (p.status === 503) line.append(" The rest of the page keeps working; try again in a few seconds.");
      banner.append(line);
    }
    banner.hidden = failures.size === 0;
  }

  /* ---- rendering helpers ---- */
  function el(tag, attrs, children) {
    const node = document.createElement(tag);
    for (const [k, v] of Object.entries(attrs || {})) {
      if (v === null || v === undefined || v === false) continue;
      if (k === "text") node.textContent = v; else node.setAttribute(k, v === true ? "" : v);
    }
    for (const child of children || []) node.append(child);
    return node;
  }
  function escapeHtml(text) {
    return String(text).replace(/[&<>"']/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" })[c]);
  }
  function highlighted(fragment, plain) {
    const span = document.createElement("span");
    if (!fragment) { span.textContent = plain; return span; }
    span.innerHTML = escapeHtml(fragment).replace(/&lt;(\/?)em&gt;/g, "<$1em>");
    return span;
  }
  const number = (n) => Number(n).toLocaleString("en-US");
  function navLink(text, state, attrs) {
    return el("a", Object.assign({ href: toQuery(state), "data-nav": true, text: text }, attrs || {}));
  }
  function freshness(answer) {
    const when = answer.as_of ? "as of " + answer.as_of.replace("T", " ").replace(/\.\d+/, "").replace("Z", " UTC") : "no data yet";
    const exact = answer.exact ? "exact" : answer.error_bound === null ? "approximate (bound unknown)" : "approximate, ± " + number(answer.error_bound);
    return when + " · " + exact;
  }

  /* ---- search results, facets, pills ---- */
  let current = parse(location.search);
  let shownSearch = null;
  let shownCharts = null;
  let artistName = null;

  function renderSearch(state, result) {
    const items = result.items;
    if (state.artist && items.length) artistName = items[0].artist.name;
    const page = Number(state.page || 1);
    $("#total").textContent = (result.total_is_exact ? "" : "At least ") + number(result.total) + " song" + (result.total === 1 ? "" : "s") + (page > 1 ? " · page " + page : "");
    $("#rows").replaceChildren(...items.map((hit) => el("tr", {}, [
      el("td", {}, [highlighted((hit.highlight.title || [])[0], hit.title)]),
      el("td", {}, [navLinkNode(highlighted((hit.highlight.artist_name || [])[0], hit.artist.name), withChanges(state, { artist: hit.artist.id }))]),
      el("td", {}, [highlighted((hit.highlight.album_title || [])[0], hit.album.title)]),
      el("td", { text: String(hit.album.release_year) }),
      el("td", { class: "num", text: number(hit.views) }),
      el("td", { text: hit.genre }),
    ])));
    for (const th of document.querySelectorAll("#results-table th[aria-sort]")) {
      const link = $("a", th);
      const field = link.dataset.sort;
      th.setAttribute("aria-sort", state.sort === field ? "ascending" : state.sort === "-" + field ? "descending" : "none");
      link.href = toQuery(withChanges(state, { sort: state.sort === "-" + field ? field : "-" + field }));
    }
    const pager = [];
    if (page > 1) pager.push(navLink("First page", withChanges(state, {})));
    if (result.next_cursor) pager.push(navLink("Next page", withChanges(state, { cursor: result.next_cursor, page: String(page + 1) }, true), { rel: "next" }));
    $("#pager").replaceChildren(...pager);
    renderFacets(state, result.facets);
    const empty = $("#empty");
    empty.hidden = items.length > 0;
    if (!items.length) renderEmpty(state);
  }
  function navLinkNode(child, state) {
    const a = el("a", { href: toQuery(state), "data-nav": true });
    a.append(child);
    return a;
  }
  function renderFacets(state, facets) {
    $("#genre-facets").replaceChildren(...facets.genres.map((f) => el("li", {}, [
      el("a", { href: toQuery(withChanges(state, { genre: state.genre === f.genre ? null : f.genre })), "data-nav": true, "aria-current": state.genre === f.genre ? "true" : null }, [f.genre + " ", el("span", { class: "count", text: String(f.count) })]),
    ])));
    $("#decade-facets").replaceChildren(...facets.decades.map((f) => el("li", {}, [
      el("a", { href: toQuery(withChanges(state, { year_from: String(f.decade), year_to: String(f.decade + 9) })), "data-nav": true }, [f.decade + "s ", el("span", { class: "count", text: String(f.count) })]),
    ])));
  }
  function renderPills(state) {
    const pills = [];
    for (const [key, label] of Object.entries(FILTER_LABELS)) {
      if (!state[key]) continue;
      const value = key === "artist" ? artistName || state.artist : state[key];
      const a = el("a", { class: "pill", href: toQuery(withChanges(state, { [key]: null })), "data-nav": true, "aria-label": "Remove filter " + label + ": " + value }, [label + ": " + value + " ", el("span", { "aria-hidden": "true", text: "×" })]);
      pills.push(el("li", {}, [a]));
    }
    $("#pills").replaceChildren(...pills);
    const clear = $("#clear-all");
    clear.hidden = pills.length === 0;
    clear.href = toQuery(withChanges(state, { genre: null, artist: null, year_from: null, year_to: null, duration_min: null, duration_max: null }));
  }
  async function renderEmpty(state) {
    const hint = $("#did-you-mean");
    hint.replaceChildren();
    const word = (state.q || "").split(/\s+/)[0];
    if (word) {
      try {
        const found = await api("/v1/search/suggest", { prefix: word.slice(0, 3), limit: 1 });
        const song = found.songs[0];
        if (song) hint.append("Did you mean ", navLink(song.title, withChanges(state, { q: song.title })), "?");
      } catch (problem) { /* a hint only: the banner reports a failing API */ }
    }
    if (Object.keys(FILTER_LABELS).some((k) => state[k])) hint.append(" ", navLink("Clear all filters", withChanges(state, { genre: null, artist: null, year_from: null, year_to: null, duration_min: null, duration_max: null })));
  }
  async function loadSearch(state) {
    const params = pick(state, SEARCH_KEYS);
    params.limit = PAGE_SIZE;
    const section = $("#results");
    section.setAttribute("aria-busy", "true");
    try {
      const result = await api("/v1/search/songs", params);
      if (state !== current) return;
      renderSearch(state, result);
      report("Search", null);
    } catch (problem) {
      if (state !== current) return;
      report("Search", problem);
    } finally {
      section.setAttribute("aria-busy", "false");
      renderPills(state);
    }
  }

  /* ---- charts ---- */
  function bars(figure, rows, onPick) {
    const max = Math.max(1, ...rows.map((r) => r.value));
    $(".bars", figure).replaceChildren(...rows.map((r) => {
      const bar = el("span", { class: "bar" });
      bar.style.width = (100 * r.value / max).toFixed(1) + "%";
      const inner = [el("span", { class: "label", text: r.label }), bar, el("span", { class: "num", text: r.shown || number(r.value) })];
      const node = onPick ? el("button", { type: "button", "aria-label": r.action + " " + r.label + " (" + (r.shown || number(r.value)) + ")" }, inner) : el("div", { class: "row" }, inner);
      if (onPick) node.addEventListener("click", () => onPick(r));
      return el("li", {}, [node]);
    }));
  }
  async function chart(id, source, path, params, draw) {
    const figure = document.getElementById(id);
    figure.setAttribute("aria-busy", "true");
    try {
      const answer = await api(path, params);
      $(".fresh", figure).textContent = freshness(answer);
      draw(figure, answer);
      report(source, null);
      return answer;
    } catch (problem) {
      $(".fresh", figure).textContent = "Unavailable: " + problem.title;
      report(source, problem);
      return null;
    } finally {
      figure.setAttribute("aria-busy", "false");
    }
  }
  function isoDay(ms) { return new Date(ms).toISOString().slice(0, 10); }
  function playsParams(state) {
    const params = { interval: state.interval || "day" };
    if (state.country) params.country = state.country;
    if (state.from) params.from = state.from + "T00:00:00Z";
    if (state.to) params.to = isoDay(Date.parse(state.to + "T00:00:00Z") + DAY_MS) + "T00:00:00Z";
    return params;
  }
  let plot = null;
  function drawPlays(figure, answer) {
    const xs = answer.buckets.map((b) => Date.parse(b.start) / 1000);
    const ys = answer.buckets.map((b) => b.plays);
    figure.dataset.buckets = String(answer.buckets.length);
    $(".plays-table tbody", figure).replaceChildren(...answer.buckets.map((b) => el("tr", {}, [el("td", { text: b.start.slice(0, 10) }), el("td", { class: "num", text: number(b.plays) })])));
    const box = $(".plot", figure);
    if (plot) { plot.destroy(); plot = null; }
    if (!window.uPlot) return;
    plot = new window.uPlot({
      width: Math.max(300, box.clientWidth || 800), height: 220,
      legend: { show: false },
      scales: { x: { time: true } },
      series: [{}, { label: "Plays", stroke: "#3d6fd6", fill: "rgba(61,111,214,.35)", paths: window.uPlot.paths.bars({ size: [0.8, 40] }), points: { show: false } }],
      axes: [{}, { size: 60 }],
    }, [xs, ys], box);
  }
  async function loadPlays(state) {
    const answer = await chart("plays", "Plays over time", "/v1/analytics/plays", playsParams(state), drawPlays);
    // No range asked for and no plays in the default window: show the window ending at the newest play.
    if (answer && !state.from && !state.to && answer.total === 0 && answer.as_of && state === current) {
      const end = Date.parse(answer.as_of.slice(0, 10) + "T00:00:00Z") + DAY_MS;
      const span = Date.parse(answer.to) - Date.parse(answer.from);
      const params = Object.assign(playsParams(state), { from: new Date(end - span).toISOString(), to: new Date(end).toISOString() });
      await chart("plays", "Plays over time", "/v1/analytics/plays", params, drawPlays);
    }
  }
  function loadCharts(state) {
    const country = state.country ? { country: state.country } : {};
    const filterByArtist = (row) => navigate(withChanges(current, { artist: row.id }));
    chart("top-artists", "Top artists", "/v1/analytics/top-artists", Object.assign({ limit: 10 }, country), (figure, answer) =>
      bars(figure, answer.items.map((a) => ({ id: a.artist_id, label: a.artist_name || a.artist_id, value: a.views, action: "Filter results by artist" })), filterByArtist));
    chart("top-songs", "Top songs", "/v1/analytics/top-songs", Object.assign({ limit: 10 }, country), (figure, answer) =>
      bars(figure, answer.items.map((s) => ({ label: s.title + " — " + s.artist_name, value: s.views, title: s.title, action: "Search for" })), (row) => navigate(withChanges(current, { q: row.title }))));
    chart("genre-share", "Genre share", "/v1/analytics/genres", country, (figure, answer) =>
      bars(figure, answer.items.map((g) => ({ label: g.genre, value: g.views, shown: (100 * g.share).toFixed(1) + "%", action: "Filter results by genre" })), (row) => navigate(withChanges(current, { genre: row.label }))));
    loadPlays(state);
  }

  /* ---- one state to the page ---- */
  function syncForms(state) {
    for (const key of ["q", "year_from", "year_to", "duration_min", "duration_max", "from", "to"]) document.getElementById(key).value = state[key] || "";
    $("#sort").value = state.sort || "relevance";
    $("#country").value = (state.country || "").toUpperCase();
    document.getElementById("interval-" + (state.interval || "day")).checked = true;
    $("#range").value = state.from || state.to ? "custom" : "";
    document.title = (state.q ? state.q + " · " : "") + "Beatstream search dashboard";
  }
  function load(state) {
    current = state;
    syncForms(state);
    const searchKey = keyOf(pick(state, SEARCH_KEYS));
    if (searchKey !== shownSearch) { shownSearch = searchKey; loadSearch(state); } else renderPills(state);
    const chartKey = keyOf(pick(state, CHART_KEYS));
    if (chartKey !== shownCharts) { shownCharts = chartKey; loadCharts(state); }
  }
  function navigate(state) {
    if (toQuery(state) !== location.pathname + location.search) history.pushState(null, "", toQuery(state));
    load(state);
  }

  /* ---- typeahead (ARIA 1.2 combobox) ---- */
  function typeahead() {
    const input = $("#q");
    const list = $("#suggestions");
    let options = [];
    let active = -1;
    let timer = null;
    let asked = "";
    function close() { list.hidden = true; input.setAttribute("aria-expanded", "false"); input.removeAttribute("aria-activedescendant"); active = -1; }
    function mark(text, prefix) {
      const node = document.createElement("span");
      const at = text.toLowerCase().indexOf(prefix.toLowerCase());
      if (at < 0 || !prefix) { node.textContent = text; return node; }
      node.append(text.slice(0, at), el("mark", { text: text.slice(at, at + prefix.length) }), text.slice(at + prefix.length));
      return node;
    }
    function choose(option) {
      close();
      if (option.kind === "artist") { artistName = option.label; navigate(withChanges(current, { artist: option.id, q: null })); }
      else { input.value = option.label; navigate(withChanges(current, { q: option.label })); }
    }
    function setActive(index) {
      active = index;
      [...list.children].forEach((li, i) => li.setAttribute("aria-selected", i === index ? "true" : "false"));
      if (index >= 0) input.setAttribute("aria-activedescendant", "suggestion-" + index); else input.removeAttribute("aria-activedescendant");
    }
    async function suggest() {
      const prefix = input.value.trim();
      if (!prefix) { close(); return; }
      asked = prefix;
      let found;
      try { found = await api("/v1/search/suggest", { prefix: prefix.slice(0, 100), limit: 5 }); report("Suggestions", null); }
      catch (problem) { report("Suggestions", problem); close(); return; }
      if (asked !== prefix) return;
      options = found.songs.map((s) => ({ kind: "song", label: s.title, detail: s.artist_name }))
        .concat(found.artists.map((a) => ({ kind: "artist", id: a.id, label: a.name, detail: "artist" })));
      list.replaceChildren(...options.map((o, i) => {
        const li = el("li", { id: "suggestion-" + i, role: "option", "aria-selected": "false" }, [mark(o.label, prefix), el("span", { class: "kind", text: o.kind === "song" ? "song · " + o.detail : "artist" })]);
        li.addEventListener("mousedown", (event) => { event.preventDefault(); choose(o); });
        return li;
      }));
      list.hidden = options.length === 0;
      input.setAttribute("aria-expanded", options.length ? "true" : "false");
      setActive(-1);
    }
    input.addEventListener("input", () => { clearTimeout(timer); timer = setTimeout(suggest, 150); });
    input.addEventListener("blur", () => setTimeout(close, 100));
    input.addEventListener("keydown", (event) => {
      if (list.hidden && event.key !== "ArrowDown") return;
      if (event.key === "ArrowDown") { event.preventDefault(); if (list.hidden) { suggest(); return; } setActive((active + 1) % options.length); }
      else if (event.key === "ArrowUp") { event.preventDefault(); setActive(active <= 0 ? options.length - 1 : active - 1); }
      else if (event.key === "Enter" && active >= 0) { event.preventDefault(); choose(options[active]); }
      else if (event.key === "Escape") { close(); }
    });
  }

  /* ---- wiring ---- */
  function fromSearchForm() {
    const form = new FormData($("#search"));
    const changes = {};
    for (const key of ["q", "year_from", "year_to", "duration_min", "duration_max", "sort"]) changes[key] = (form.get(key) || "").trim() || null;
    if (changes.sort === "relevance") changes.sort = null;
    return withChanges(current, changes);
  }
  function fromChartForm() {
    const changes = { country: $("#country").value || null, interval: document.querySelector("input[name=interval]:checked").value };
    if (changes.interval === "day") changes.interval = null;
    const range = $("#range").value;
    if (range === "custom") { changes.from = $("#from").value || null; changes.to = $("#to").value || null; }
    else if (range) { const today = Date.parse(new Date().toISOString().slice(0, 10) + "T00:00:00Z"); changes.to = isoDay(today); changes.from = isoDay(today - (Number(range) - 1) * DAY_MS); }
    else { changes.from = null; changes.to = null; }
    return withChanges(current, changes, true);
  }
  function start() {
    const initial = $("#initial-results");
    if (initial) {
      const data = JSON.parse(initial.textContent);
      shownSearch = keyOf(pick(current, SEARCH_KEYS));
      if (current.artist && data.result.items.length) artistName = data.result.items[0].artist.name;
      renderSearch(current, data.result);
      renderPills(current);
    }
    load(current);
    document.addEventListener("click", (event) => {
      const link = event.target.closest("a[data-nav]");
      if (!link || event.ctrlKey || event.metaKey || event.shiftKey || event.button !== 0) return;
      event.preventDefault();
      navigate(parse(new URL(link.href).search));
    });
    $("#search").addEventListener("submit", (event) => { event.preventDefault(); navigate(fromSearchForm()); });
    const controls = $("#chart-controls");
    controls.addEventListener("submit", (event) => { event.preventDefault(); navigate(fromChartForm()); });
    controls.addEventListener("change", (event) => {
      if (event.target.id === "from" || event.target.id === "to") $("#range").value = "custom";
      navigate(fromChartForm());
    });
    window.addEventListener("popstate", () => load(parse(location.search)));
    typeahead();
    document.body.dataset.ready = "true";
    performance.mark("dashboard:ready");
  }
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", start); else start();
})();
