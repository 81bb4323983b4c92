// courtside live page: the games, and a chosen game's box scores kept current over /v1/ws.
// No build step: plain browser JavaScript. Protocol: docs/websocket.md.
"use strict";

const pct = (v) => (v == null ? "–" : (100 * v).toFixed(1));
const num1 = (v) => (v == null ? "–" : Number(v).toFixed(1));
const int = (v) => (v == null ? "–" : String(Math.round(v)));
const signed = (v) => (v == null ? "–" : (v > 0 ? "+" : "") + Math.round(v));
const minutes = (v) => {
  if (v == null) return "–";
  const s = Math.round(v * 60);
  return `${Math.floor(s / 60)}:${String(s % 60).padStart(2, "0")}`;
};
const pair = (a, b) => (vals) => `${int(vals[a])}-${int(vals[b])}`;

// [label, keys that feed the cell, formatter, advanced?]
const COLUMNS = [
  ["MIN", ["MIN"], (v) => minutes(v.MIN)],
  ["PTS", ["PTS"], (v) => int(v.PTS)],
  ["REB", ["REB"], (v) => int(v.REB)],
  ["AST", ["AST"], (v) => int(v.AST)],
  ["STL", ["STL"], (v) => int(v.STL)],
  ["BLK", ["BLK"], (v) => int(v.BLK)],
  ["TOV", ["TOV"], (v) => int(v.TOV)],
  ["FG", ["FGM", "FGA"], pair("FGM", "FGA")],
  ["3P", ["FG3M", "FG3A"], pair("FG3M", "FG3A")],
  ["FT", ["FTM", "FTA"], pair("FTM", "FTA")],
  ["+/-", ["PLUS_MINUS"], (v) => signed(v.PLUS_MINUS)],
  ["TS%", ["TS_PCT"], (v) => pct(v.TS_PCT), true],
  ["eFG%", ["EFG_PCT"], (v) => pct(v.EFG_PCT), true],
  ["USG%", ["USG_PCT"], (v) => num1(v.USG_PCT), true],
  ["GmSc", ["GAME_SCORE"], (v) => num1(v.GAME_SCORE), true],
  ["PER", ["PER"], (v) => num1(v.PER), true],
];
const STATUS = { 1: "scheduled", 2: "live", 3: "final" };
const HEARTBEAT_GRACE_MS = 40000;

const params = new URLSearchParams(location.search);
const token = params.get("token");
const state = {
  ws: null,
  games: new Map(),        // gameId -> {name, values, home_team_id, away_team_id}
  selected: null,          // gameId
  entities: new Map(),     // "kind:id" -> {kind, id, team_id, name, values}
  seqs: new Map(),         // topic -> last seq seen
  lastMessage: 0,
  connected: false,
};

const $ = (sel) => document.querySelector(sel);

function setConnection(text, on) {
  const el = $("#connection");
  el.textContent = text;
  el.className = "pill " + (on ? "on" : "off");
  el.dataset.state = on ? "live" : "down";
}

function gameLabel(id) {
  const g = state.games.get(id) || {};
  return g.name || id;
}

function renderGames() {
  const ul = $("#games");
  ul.replaceChildren();
  if (!state.games.size) {
    ul.innerHTML = '<li class="empty">no games yet</li>';
    return;
  }
  for (const [id, g] of state.games) {
    const v = g.values || {};
    const li = document.createElement("li");
    const b = document.createElement("button");
    b.dataset.game = id;
    if (id === state.selected) b.className = "selected";
    const score = v.AWAY_PTS != null ? ` ${int(v.AWAY_PTS)}-${int(v.HOME_PTS)}` : "";
    b.innerHTML = `<strong></strong><span class="status"></span>`;
    b.querySelector("strong").textContent = gameLabel(id) + score;
    const status = STATUS[v.GAME_STATUS] || "";
    b.querySelector(".status").textContent =
      [status, v.PERIOD ? `Q${v.PERIOD}` : "", clockText(v.GAME_CLOCK), v.STALE ? "stale" : ""]
        .filter(Boolean).join(" · ");
    b.addEventListener("click", () => selectGame(id));
    li.appendChild(b);
    ul.appendChild(li);
  }
}

function clockText(iso) {
  const m = /PT(\d+)M(\d+)(?:\.\d+)?S/.exec(iso || "");
  return m ? `${Number(m[1])}:${m[2].padStart(2, "0")}` : "";
}

function teamOrder() {
  const g = state.games.get(state.selected) || {};
  const teams = [...state.entities.values()].filter((e) => e.kind === "team");
  const rank = (t) => (t.id === g.away_team_id ? 0 : t.id === g.home_team_id ? 1 : 2);
  return teams.sort((a, b) => rank(a) - rank(b));
}

function cellHtml(cls) {
  return COLUMNS.map(([label, keys, , adv]) =>
    `<${cls} data-col="${label}"${adv ? ' class="adv"' : ""}>${cls === "th" ? label : ""}</${cls}>`).join("");
}

function renderBoxes() {
  const boxes = $("#boxes");
  boxes.replaceChildren();
  for (const team of teamOrder()) {
    const div = document.createElement("div");
    div.className = "box";
    div.dataset.team = team.id;
    div.innerHTML = `<h3></h3><table><thead><tr><th>Player</th>${cellHtml("th")}</tr></thead>` +
      `<tbody></tbody><tfoot></tfoot></table>`;
    div.querySelector("h3").textContent = team.name || team.id;
    const tbody = div.querySelector("tbody");
    const players = [...state.entities.values()]
      .filter((e) => e.kind === "player" && e.team_id === team.id)
      .sort((a, b) => (b.values.MIN || 0) - (a.values.MIN || 0));
    for (const p of players) tbody.appendChild(row(p));
    const total = row(team, "Team");
    total.className = "total";
    div.querySelector("tfoot").appendChild(total);
    boxes.appendChild(div);
  }
  renderHead();
}

function row(entity, label) {
  const tr = document.createElement("tr");
  tr.dataset.entity = `${entity.kind}:${entity.id}`;
  tr.innerHTML = `<td></td>${cellHtml("td")}`;
  tr.firstChild.textContent = label || entity.name || entity.id;
  fillRow(tr, entity, null);
  return tr;
}

function fillRow(tr, entity, changed) {
  for (const [label, keys, fmt] of COLUMNS) {
    const td = tr.querySelector(`td[data-col="${CSS.escape(label)}"]`);
    const text = fmt(entity.values);
    if (td.textContent !== text) {
      td.textContent = text;
      if (changed && keys.some((k) => changed.has(k))) flash(td);
    }
  }
}

// The Web Animations API restarts the highlight without forcing a layout per cell.
function flash(td) {
  td.classList.add("changed");
  const anim = td.animate(
    [{ backgroundColor: "rgba(242, 169, 59, 0.45)", color: "#fff" },
     { backgroundColor: "rgba(242, 169, 59, 0)" }],
    { duration: 1600, easing: "ease-out" });
  anim.onfinish = () => td.classList.remove("changed");
}

function renderHead() {
  const g = state.games.get(state.selected) || {};
  const v = g.values || {};
  $("#game").hidden = !state.selected;
  $("#game-title").textContent = gameLabel(state.selected);
  $("#game-score").textContent = v.AWAY_PTS != null ? `${int(v.AWAY_PTS)} – ${int(v.HOME_PTS)}` : "";
  $("#game-clock").textContent = [STATUS[v.GAME_STATUS] || "", v.PERIOD ? `Q${v.PERIOD}` : "",
    clockText(v.GAME_CLOCK)].filter(Boolean).join(" · ");
  markStale();
}

function isStale() {
  const g = state.games.get(state.selected) || {};
  const silent = Date.now() - state.lastMessage > HEARTBEAT_GRACE_MS;
  return Boolean((g.values || {}).STALE) || !state.connected || silent;
}

function markStale() {
  const stale = state.selected && isStale();
  $("#game-stale").hidden = !stale;
  $("#boxes").classList.toggle("stale-data", Boolean(stale));
}

function send(msg) {
  if (state.ws && state.ws.readyState === WebSocket.OPEN) state.ws.send(JSON.stringify(msg));
}

function selectGame(id) {
  if (state.selected && state.selected !== id) {
    send({ type: "unsubscribe", topic: `game:${state.selected}` });
    state.seqs.delete(`game:${state.selected}`);
  }
  state.selected = id;
  state.entities.clear();
  history.replaceState(null, "", `#game=${id}`);
  send({ type: "subscribe", topic: `game:${id}` });
  renderGames();
  renderHead();
}

function noteGame(entity) {
  const known = state.games.get(entity.id);
  const g = known || { values: {} };
  g.name = entity.name || g.name;
  Object.assign(g.values, entity.values || {});
  state.games.set(entity.id, g);
  if (!g.home_team_id) refreshGames();
}

// Home and away team ids (to order the boxes away, then home) come from the REST summary.
let refreshing = null;
function refreshGames() {
  if (refreshing) return;
  refreshing = fetch("/v1/games")
    .then((r) => (r.ok ? r.json() : { games: [] }))
    .then((body) => {
      for (const summary of body.games) {
        const g = state.games.get(summary.game_id);
        if (!g) continue;
        g.home_team_id = summary.home_team_id;
        g.away_team_id = summary.away_team_id;
      }
      if (state.selected) renderBoxes();
    })
    .catch(() => {})
    .finally(() => { refreshing = null; });
}

function onSnapshot(msg) {
  state.seqs.set(msg.topic, msg.seq);
  if (msg.topic === "scoreboard") {
    for (const e of msg.entities) if (e.kind === "game") noteGame(e);
    renderGames();
    if (!state.selected && state.games.size) {
      const wanted = new URLSearchParams(location.hash.slice(1)).get("game");
      const live = [...state.games].find(([, g]) => g.values.GAME_STATUS === 2);
      selectGame(state.games.has(wanted) ? wanted : (live || [...state.games][0])[0]);
    }
    return;
  }
  if (msg.topic !== `game:${state.selected}`) return;
  state.entities.clear();
  for (const e of msg.entities) {
    state.entities.set(`${e.kind}:${e.id}`, { ...e, values: { ...e.values } });
    if (e.kind === "game") noteGame(e);
  }
  renderBoxes();
  renderGames();
}

function onUpdate(msg) {
  const last = state.seqs.get(msg.topic);
  // Seqs only increase; an older one is a duplicate from a resume. Gaps need no action:
  // a coalesced update (coalesced_from) carries the latest values of the seqs it replaces.
  if (last != null && msg.seq <= last) return;
  state.seqs.set(msg.topic, msg.seq);
  const e = msg.entity;
  if (e.kind === "game" && msg.values.RETIRED) {
    // the game left live tracking: drop it from the list (a shown game keeps its final box)
    if (e.id !== state.selected) state.games.delete(e.id);
    dirtyGames = true;
    scheduleRender();
    return;
  }
  if (e.kind === "game") {
    noteGame({ ...e, values: msg.values });
    dirtyGames = true;
  }
  if (msg.topic !== `game:${state.selected}`) {
    scheduleRender();
    return;
  }
  const key = `${e.kind}:${e.id}`;
  let entity = state.entities.get(key);
  if (!entity) {
    entity = { ...e, values: {} };
    state.entities.set(key, entity);
    if (e.kind !== "game") needFullRender = true;
  }
  Object.assign(entity.values, msg.values);
  const changed = dirty.get(key) || new Set();
  for (const k of Object.keys(msg.values)) changed.add(k);
  dirty.set(key, changed);
  scheduleRender();
}

// Updates only touch the state; the DOM is brought up to date once per animation frame,
// so a burst of updates costs one render.
const dirty = new Map();
let dirtyGames = false;
let needFullRender = false;
let renderPending = false;

function scheduleRender() {
  if (renderPending) return;
  renderPending = true;
  requestAnimationFrame(() => {
    renderPending = false;
    if (dirtyGames) renderGames();
    if (needFullRender) renderBoxes();
    for (const [key, changed] of dirty) {
      const entity = state.entities.get(key);
      if (!entity) continue;
      if (entity.kind === "game") {
        renderHead();
        continue;
      }
      const tr = document.querySelector(`tr[data-entity="${CSS.escape(key)}"]`);
      if (tr) fillRow(tr, entity, changed);
      else if (!needFullRender) renderBoxes();
    }
    dirty.clear();
    dirtyGames = false;
    needFullRender = false;
    markStale();
  });
}

function connect() {
  const url = new URL("/v1/ws", location.href);
  url.protocol = location.protocol === "https:" ? "wss:" : "ws:";
  if (token) url.searchParams.set("token", token);
  const ws = new WebSocket(url);
  state.ws = ws;
  ws.onopen = () => {
    state.connected = true;
    state.lastMessage = Date.now();
    setConnection("live", true);
    send({ type: "subscribe", topic: "scoreboard" });
    if (state.selected) {
      const topic = `game:${state.selected}`;
      const seq = state.seqs.get(topic);
      send(seq != null ? { type: "resume", topic, seq } : { type: "subscribe", topic });
    }
  };
  ws.onmessage = (event) => {
    state.lastMessage = Date.now();
    const msg = JSON.parse(event.data);
    if (msg.type === "snapshot") onSnapshot(msg);
    else if (msg.type === "update") onUpdate(msg);
    else if (msg.type === "error") console.warn("courtside:", msg.code, msg.message);
  };
  ws.onclose = (event) => {
    state.connected = false;
    setConnection(event.code === 4401 ? "token needed" : "reconnecting…", false);
    markStale();
    if (event.code !== 4401) setTimeout(connect, 1500);
  };
}

setInterval(markStale, 5000);
connect();
