// bridle daemon dashboard. Plain JS, no build step, nothing loaded from elsewhere.
//
// The bearer token lives in this tab's sessionStorage and goes out only as an
// Authorization header. The live log reads the SSE endpoint with fetch streaming
// (EventSource cannot send headers), so the token is never put in a URL; a dropped
// stream is resumed with Last-Event-ID. Event text is always set as textContent.
"use strict";

const TOKEN_KEY = "bridle.daemon.token";
const FINISHED = new Set(["succeeded", "failed", "cancelled"]);
const REFRESH_MS = 1500;

const $ = (id) => document.getElementById(id);
let selected = null;      // task id shown in the detail pane
let stream = null;        // {id, controller} of the open log stream
let refreshTimer = null;

function token() { return sessionStorage.getItem(TOKEN_KEY) || ""; }

class ApiError extends Error {
  constructor(status, type, message) { super(message); this.status = status; this.type = type; }
}

async function api(path, options = {}) {
  const headers = { Authorization: `Bearer ${token()}`, ...(options.headers || {}) };
  if (options.body !== undefined) headers["Content-Type"] = "application/json";
  const response = await fetch(path, {
    method: options.method || "GET", headers, cache: "no-store",
    body: options.body === undefined ? undefined : JSON.stringify(options.body),
  });
  if (response.status === 401) {
    logout("The token was refused; enter the daemon's current token.");
    throw new ApiError(401, "unauthorized", "unauthorized");
  }
  const data = await response.json().catch(() => ({}));
  if (!response.ok) {
    const err = data.error || {};
    throw new ApiError(response.status, err.type || "http_error",
      err.message || `HTTP ${response.status}`);
  }
  return data;
}

// ---------------------------------------------------------------- login
function showLogin(message) {
  $("main").hidden = true;
  $("logout").hidden = true;
  $("login").hidden = false;
  $("login-error").textContent = message || "";
  $("token").focus();
}

function showMain() {
  $("login").hidden = true;
  $("main").hidden = false;
  $("logout").hidden = false;
  refresh();
  clearInterval(refreshTimer);
  refreshTimer = setInterval(refresh, REFRESH_MS);
  const fromHash = new URLSearchParams(location.hash.slice(1)).get("task");
  if (fromHash) select(fromHash);
}

function logout(message) {
  sessionStorage.removeItem(TOKEN_KEY);
  clearInterval(refreshTimer);
  closeStream();
  showLogin(message);
}

async function login(event) {
  event.preventDefault();
  const candidate = $("token").value.trim();
  if (!candidate) return;
  // Checked before it is kept, so a typo is reported here and not as a broken page.
  let response;
  try {
    response = await fetch("/tasks?limit=1", {
      headers: { Authorization: `Bearer ${candidate}` }, cache: "no-store",
    });
  } catch (err) {
    $("login-error").textContent = `The daemon did not answer (${err.message}); is it running?`;
    return;
  }
  if (response.status === 401) {
    $("login-error").textContent = "Wrong token: the daemon refused it. Check the token file it named at start.";
    return;
  }
  if (!response.ok) {
    $("login-error").textContent = `The daemon answered HTTP ${response.status}; try again.`;
    return;
  }
  sessionStorage.setItem(TOKEN_KEY, candidate);
  $("token").value = "";
  showMain();
}

// ---------------------------------------------------------------- task list
function money(value) { return `$${Number(value || 0).toFixed(4)}`; }

function cell(row, text, className) {
  const td = document.createElement("td");
  td.textContent = text;
  if (className) td.className = className;
  row.appendChild(td);
}

function renderTasks(tasks) {
  const body = $("tasks").querySelector("tbody");
  body.replaceChildren();
  for (const t of tasks) {
    const row = document.createElement("tr");
    row.dataset.id = t.id;
    row.dataset.state = t.state;
    if (t.id === selected) row.classList.add("selected");
    cell(row, t.id);
    cell(row, t.state, `state state-${t.state}`);
    cell(row, t.phase || "—");
    cell(row, money(t.cost_usd), "cost");
    cell(row, String(t.turns));
    cell(row, t.branch);
    cell(row, t.task, "what");
    row.title = t.task;
    row.addEventListener("click", () => select(t.id));
    body.appendChild(row);
  }
}

// Refreshes overlap (a timer, several events in a row); their answers can come back
// out of order, so only the newest one may draw, or a stale "running" could stick.
let refreshes = 0;

async function refresh() {
  const mine = ++refreshes;
  try {
    const page = await api("/tasks?limit=100");
    if (mine !== refreshes) return;
    renderTasks(page.tasks);
    $("list-error").textContent = "";
    if (!selected) return;
    const task = await api(`/tasks/${encodeURIComponent(selected)}`);
    if (mine === refreshes && task.id === selected) renderDetail(task);
  } catch (err) {
    if (err.status !== 401 && mine === refreshes) $("list-error").textContent = err.message;
  }
}

async function submitTask(event) {
  event.preventDefault();
  const form = new FormData($("submit-form"));
  const body = {};
  for (const [key, value] of form.entries()) {
    const text = String(value).trim();
    if (text) body[key] = text;
  }
  try {
    const task = await api("/tasks", { method: "POST", body });
    $("submit-error").textContent = "";
    $("submit-form").reset();
    await refresh();
    select(task.id);
  } catch (err) {
    if (err.status !== 401) $("submit-error").textContent = err.message;
  }
}

// ---------------------------------------------------------------- detail
function renderDetail(t) {
  $("detail").hidden = false;
  $("d-id").textContent = t.id;
  $("d-state").textContent = t.state + (t.stop_requested && !FINISHED.has(t.state) ? " (stopping)" : "");
  $("d-state").className = `state state-${t.state}`;
  $("d-state").dataset.state = t.state;
  $("d-phase").textContent = t.phase || "—";
  $("d-cost").textContent = money(t.cost_usd);
  $("d-turns").textContent = String(t.turns);
  $("d-branch").textContent = t.branch;
  $("d-error").textContent = t.error || "";
  const done = FINISHED.has(t.state);
  $("stop").disabled = done || t.stop_requested;
  $("steer").disabled = done;
  $("steer-text").disabled = done;
}

async function select(id) {
  if (selected === id && stream && stream.id === id) return;
  closeStream();  // before the log is cleared, so the old task's events cannot land in it
  selected = id;
  history.replaceState(null, "", `#task=${encodeURIComponent(id)}`);
  for (const row of $("tasks").querySelectorAll("tbody tr")) {
    row.classList.toggle("selected", row.dataset.id === id);
  }
  $("log").replaceChildren();
  $("control-error").textContent = "";
  try {
    renderDetail(await api(`/tasks/${encodeURIComponent(id)}`));
  } catch (err) {
    if (err.status !== 401) $("control-error").textContent = err.message;
    return;
  }
  openStream(id);
}

async function control(action, body) {
  if (!selected) return;
  try {
    const task = await api(`/tasks/${encodeURIComponent(selected)}/${action}`, { method: "POST", body });
    $("control-error").textContent = "";
    renderDetail(task);
    return task;
  } catch (err) {
    if (err.status !== 401) $("control-error").textContent = err.message;
  }
}

async function steer(event) {
  event.preventDefault();
  const text = $("steer-text").value.trim();
  if (!text) return;
  if (await control("steer", { text })) $("steer-text").value = "";
}

// ---------------------------------------------------------------- live log
function closeStream() {
  if (stream) stream.controller.abort();
  stream = null;
}

function short(value, limit) {
  const text = typeof value === "string" ? value : JSON.stringify(value);
  return text.length > limit ? `${text.slice(0, limit)}…` : text;
}

function describe(e) {
  switch (e.kind) {
    case "task_started": return `task started (attempt ${e.attempt}) on ${e.branch}`;
    case "task_resumed": return `task resumed (attempt ${e.attempt}) from the ${e.checkpoint} checkpoint`;
    case "phase_started": return `── ${e.phase}${e.round ? ` (round ${e.round + 1})` : ""}`;
    case "session_started": return `session ${e.session_id} (${e.model})`;
    case "text_chunk": return e.text;
    case "thinking_chunk": return null;
    case "assistant_message": return e.text || null;
    case "tool_started": return `→ ${e.call.name} ${short(e.call.input, 160)}`;
    case "tool_finished":
      return `← ${e.call.name}${e.is_error ? " (error)" : ""}: ${short((e.result || "").split("\n")[0], 160)}`;
    case "turn_result": return `turn ${e.subtype}: ${e.num_turns} request(s), ${money(e.cost_usd)}`;
    case "steer": return `steer${e.delivered ? "" : " (for the next phase)"}: ${e.text}`;
    case "stop_requested": return "stop requested";
    case "test_finished": return `tests: ${e.command} → exit ${e.exit_code}`;
    case "checkpoint": return `checkpoint ${e.phase} ${String(e.commit).slice(0, 10)}${e.ok === false ? " (failed)" : ""}`;
    case "pushed": return `pushed ${e.branch} at ${String(e.commit).slice(0, 10)}`;
    case "task_finished": return `task ${e.state}${e.error ? `: ${e.error}` : ""}`;
    case "notice": return `note: ${e.text}`;
    case "error": return `error: ${e.message}`;
    default: return e.kind;
  }
}

function appendEvent(e, state) {
  // Streamed text arrives as text_chunk events; the assistant_message that ends the
  // turn repeats it, so it is shown only when nothing was streamed.
  if (e.kind === "assistant_message" && state.streamed) { state.streamed = false; return; }
  if (e.kind === "text_chunk") state.streamed = true;
  const text = describe(e);
  if (text === null || text === "") return;
  const line = document.createElement("div");
  line.className = `ev ev-${e.kind}${e.is_error ? " is-error" : ""}`;
  line.dataset.id = String(e.id);
  line.dataset.kind = e.kind;
  line.textContent = text;
  const log = $("log");
  const atBottom = log.scrollTop + log.clientHeight >= log.scrollHeight - 8;
  log.appendChild(line);
  if (atBottom) log.scrollTop = log.scrollHeight;
}

// Parses one SSE frame ("id: …\nevent: …\ndata: …") into {id, event, data}.
function parseFrame(frame) {
  const out = { id: null, event: "message", data: [] };
  for (const raw of frame.split(/\r?\n/)) {
    if (!raw || raw.startsWith(":")) continue;  // comments are keep-alive pings
    const colon = raw.indexOf(":");
    const field = colon < 0 ? raw : raw.slice(0, colon);
    let value = colon < 0 ? "" : raw.slice(colon + 1);
    if (value.startsWith(" ")) value = value.slice(1);
    if (field === "id") out.id = value;
    else if (field === "event") out.event = value;
    else if (field === "data") out.data.push(value);
  }
  return out.data.length ? out : null;
}

async function openStream(id) {
  closeStream();
  const mine = { id, controller: new AbortController(), last: null, state: { streamed: false } };
  stream = mine;
  while (stream === mine) {
    let finished = false;
    try {
      const headers = { Authorization: `Bearer ${token()}`, Accept: "text/event-stream" };
      if (mine.last !== null) headers["Last-Event-ID"] = mine.last;
      const response = await fetch(`/tasks/${encodeURIComponent(id)}/sse`, {
        headers, signal: mine.controller.signal, cache: "no-store",
      });
      if (response.status === 401) { logout("The token was refused; enter the daemon's current token."); return; }
      if (!response.ok) throw new Error(`HTTP ${response.status}`);
      const reader = response.body.pipeThrough(new TextDecoderStream()).getReader();
      let buffer = "";
      for (;;) {
        const { value, done } = await reader.read();
        if (done) break;
        buffer += value;
        let end;
        while ((end = /\r?\n\r?\n/.exec(buffer))) {
          const frame = parseFrame(buffer.slice(0, end.index));
          buffer = buffer.slice(end.index + end[0].length);
          if (!frame || stream !== mine) continue;
          mine.last = frame.id;
          const data = JSON.parse(frame.data.join("\n"));
          appendEvent(data, mine.state);
          if (["phase_started", "checkpoint", "steer", "stop_requested", "task_finished"].includes(data.kind)) refresh();
          if (data.kind === "task_finished") finished = true;
        }
      }
    } catch (err) {
      if (mine.controller.signal.aborted) return;
    }
    if (finished || stream !== mine) return;
    // The stream ended early (daemon restart, network): resume after the last event seen.
    await new Promise((resolve) => setTimeout(resolve, 1000));
  }
}

// ---------------------------------------------------------------- start
document.addEventListener("DOMContentLoaded", () => {
  $("login-form").addEventListener("submit", login);
  $("logout").addEventListener("click", () => logout(""));
  $("submit-form").addEventListener("submit", submitTask);
  $("steer-form").addEventListener("submit", steer);
  $("stop").addEventListener("click", () => control("stop"));
  if (token()) showMain(); else showLogin("");
});
