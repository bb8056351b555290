// The tta run inspector. Everything a run produced is put on the page as text (textContent / text nodes), never as
// markup; the page's Content-Security-Policy allows only this script.
"use strict";

const main = document.getElementById("main");
let cleanup = [];
// Bumped on every route: a page's late answers (a poll, a stream event) must not draw over the next page.
let generation = 0;

function show(page, ...children) {
  if (page !== generation) return;
  // A redraw takes out and puts back the nodes kept across renders (the approval form), and a node taken out loses the
  // focus: give it back with its caret in the same turn, so keys typed while the page reads the run again are not lost.
  const focused = main.contains(document.activeElement) ? document.activeElement : null;
  const editable = focused instanceof HTMLTextAreaElement || (focused instanceof HTMLInputElement && typeof focused.selectionStart === "number");
  const caret = editable ? [focused.selectionStart, focused.selectionEnd] : null;
  main.replaceChildren(...children.flat().filter(c => c !== undefined && c !== null));
  if (focused && focused.isConnected && document.activeElement !== focused) {
    focused.focus({ preventScroll: true });
    if (caret) focused.setSelectionRange(caret[0], caret[1]);
  }
}

function el(tag, attributes, ...children) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(attributes || {})) {
    if (value === undefined || value === null || value === false) continue;
    if (key.startsWith("on")) node.addEventListener(key.slice(2), value);
    else node.setAttribute(key, String(value));
  }
  for (const child of children.flat()) {
    if (child === undefined || child === null) continue;
    node.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return node;
}

function text(value) {
  if (value === undefined || value === null) return "";
  return typeof value === "string" ? value : JSON.stringify(value, null, 2);
}

function ms(value) {
  if (value === undefined || value === null) return "";
  return value >= 1000 ? (value / 1000).toFixed(2) + " s" : value.toFixed(1) + " ms";
}

function when(value) { return value ? new Date(value).toLocaleTimeString() : ""; }

function statusCell(status) { return el("span", { class: "status status-" + status, "data-status": status }, status); }

async function api(path, options) {
  const response = await fetch(path, Object.assign({ credentials: "same-origin", headers: { Accept: "application/json" } }, options));
  const body = response.headers.get("content-type")?.includes("json") ? await response.json() : null;
  if (!response.ok) {
    const error = new Error((body && (body.detail || body.title)) || response.statusText);
    error.status = response.status;
    throw error;
  }
  return body;
}

function refused(error) {
  const lines = [el("p", { class: "error", id: "error" }, error.message)];
  if (error.status === 401)
    lines.push(el("p", {}, "This node requires its API token: open /ui?token=YOUR_TTA_API_TOKEN once in this browser."));
  main.replaceChildren(...lines);
}

function stream(path, onMessage) {
  const source = new EventSource(path);
  source.addEventListener("message", e => onMessage(JSON.parse(e.data), e));
  source.addEventListener("run", e => onMessage(JSON.parse(e.data), e));
  cleanup.push(() => source.close());
  return source;
}

function every(milliseconds, action) {
  const timer = setInterval(action, milliseconds);
  cleanup.push(() => clearInterval(timer));
}

// ---- Runs -------------------------------------------------------------------------------------------------------

function runRow(run) {
  return el("tr", { class: "clickable", id: "run-" + run.runId, "data-run-id": run.runId, "data-status": run.status,
                    onclick: () => { location.hash = "#/run/" + run.runId; } },
    el("td", {}, el("code", {}, run.runId.slice(0, 8))),
    el("td", {}, run.workflow),
    el("td", {}, statusCell(run.status)),
    el("td", {}, [run.persona, run.chatmode].filter(Boolean).join(" / ")),
    el("td", {}, run.session || ""),
    el("td", {}, when(run.startedAt)),
    el("td", {}, ms(run.durationMs)),
    el("td", {}, run.tokens ?? ""),
    el("td", {}, run.costUsd === undefined || run.costUsd === null ? "" : "$" + Number(run.costUsd).toFixed(6)));
}

async function runsPage(query) {
  const page = generation;
  const filters = { status: query.get("status") || "", workflow: query.get("workflow") || "", persona: query.get("persona") || "" };
  const status = el("select", { name: "status", id: "filter-status" },
    ["", "running", "waiting", "succeeded", "failed"].map(s => el("option", { value: s, selected: s === filters.status }, s || "any status")));
  const workflow = el("input", { name: "workflow", id: "filter-workflow", placeholder: "workflow", value: filters.workflow });
  const persona = el("input", { name: "persona", id: "filter-persona", placeholder: "persona", value: filters.persona });
  const apply = () => {
    const next = new URLSearchParams();
    if (status.value) next.set("status", status.value);
    if (workflow.value) next.set("workflow", workflow.value);
    if (persona.value) next.set("persona", persona.value);
    location.hash = "#/runs" + (next.toString() ? "?" + next : "");
  };
  const body = el("tbody", { id: "runs" });
  show(page,
    el("h1", {}, "Runs"),
    el("form", { class: "filters", onsubmit: e => { e.preventDefault(); apply(); } }, status, workflow, persona, el("button", { type: "submit" }, "Filter")),
    el("table", {}, el("thead", {}, el("tr", {}, ["Run", "Workflow", "Status", "Persona / chat mode", "Session", "Started", "Duration", "Tokens", "Cost"].map(h => el("th", {}, h)))), body));
  status.addEventListener("change", apply);

  const matches = run => (!filters.status || run.status === filters.status) && (!filters.workflow || run.workflow === filters.workflow)
    && (!filters.persona || run.persona === filters.persona);
  const upsert = run => {
    if (!matches(run)) return;
    const row = runRow(run);
    const existing = document.getElementById("run-" + run.runId);
    if (existing) existing.replaceWith(row); else body.prepend(row);
  };
  const load = async () => {
    const params = new URLSearchParams(Object.entries(filters).filter(([, v]) => v));
    const list = await api("/runs" + (params.toString() ? "?" + params : ""));
    body.replaceChildren(...list.runs.map(runRow));
  };
  await load();
  stream("/runs/feed", upsert);
  // Durable runs change state on any node (waiting, resumed): the list is read again now and then.
  every(10000, () => load().catch(() => {}));
}

// ---- A run ------------------------------------------------------------------------------------------------------

function waterfall(spans, onSelect, selectedId) {
  if (spans.length === 0) return el("p", { class: "muted", id: "waterfall" }, "No spans yet (spans arrive as they end).");
  const starts = spans.map(s => Date.parse(s.start));
  const begin = Math.min(...starts);
  const end = Math.max(...spans.map((s, i) => starts[i] + s.durationMs));
  const total = Math.max(end - begin, 0.001);
  const children = new Map();
  const ids = new Set(spans.map(s => s.spanId));
  for (const span of spans) {
    const parent = ids.has(span.parentSpanId) ? span.parentSpanId : null;
    if (!children.has(parent)) children.set(parent, []);
    children.get(parent).push(span);
  }
  const rows = [];
  const visit = (parent, depth) => {
    for (const span of children.get(parent) || []) {
      const left = (Date.parse(span.start) - begin) / total * 100;
      const width = span.durationMs / total * 100;
      rows.push(el("div", { class: "span-row" + (span.spanId === selectedId ? " selected" : ""), "data-span-id": span.spanId,
                            "data-span-name": span.name, onclick: () => onSelect(span) },
        el("div", { class: "span-name", style: null, title: span.name }, "\u00a0".repeat(depth * 3) + span.name),
        el("div", { class: "span-track" }, bar(left, width, span.status)),
        el("div", { class: "span-duration" }, ms(span.durationMs))));
      visit(span.spanId, depth + 1);
    }
  };
  visit(null, 0);
  return el("div", { class: "waterfall", id: "waterfall" }, rows);
}

function bar(left, width, status) {
  const node = el("div", { class: "span-bar status-" + status });
  // Set through the CSSOM: style attributes would need 'unsafe-inline' in the policy.
  node.style.left = left + "%";
  node.style.width = Math.max(width, 0.2) + "%";
  return node;
}

function attributesPanel(span) {
  if (!span) return el("div", { class: "panel muted", id: "span-detail" }, "Select a span to see its attributes.");
  const grid = el("div", { class: "grid" });
  const add = (key, value) => grid.append(el("div", { class: "muted" }, key), el("div", {}, el("code", {}, text(value))));
  add("name", span.name); add("status", span.status + (span.statusDescription ? ": " + span.statusDescription : ""));
  add("duration", ms(span.durationMs)); add("span id", span.spanId);
  for (const [key, value] of Object.entries(span.attributes)) add(key, value);
  const events = span.events.map(e => el("li", {}, e.name + " " + when(e.at) + " " + text(e.attributes)));
  return el("div", { class: "panel", id: "span-detail" }, el("h2", {}, span.name), grid, events.length ? el("ul", {}, events) : null);
}

function generations(spans) {
  const calls = spans.filter(s => s.attributes["gen_ai.operation.name"] === "chat" || s.attributes["gen_ai.usage.input_tokens"] !== undefined);
  if (calls.length === 0) return null;
  return el("div", { id: "generations" }, el("h2", {}, "LLM generations"), calls.map(s => el("div", { class: "panel generation" },
    el("div", {}, el("strong", {}, s.attributes["gen_ai.response.model"] || s.attributes["gen_ai.request.model"] || s.name), " ",
      el("span", { class: "muted" }, `${s.attributes["gen_ai.usage.input_tokens"] ?? "?"} in / ${s.attributes["gen_ai.usage.output_tokens"] ?? "?"} out`,
        s.attributes["gen_ai.usage.cost"] ? ` / $${s.attributes["gen_ai.usage.cost"]}` : "")),
    el("div", { class: "muted" }, "prompt"), el("pre", {}, s.attributes["llm.input"] ?? "(not captured)"),
    el("div", { class: "muted" }, "completion"), el("pre", {}, s.attributes["llm.output"] ?? "(not captured)"))));
}

function approvalPanel(run, refresh) {
  if (run.status !== "waiting" || !run.awaitedSignals || run.awaitedSignals.length === 0) return null;
  const payload = el("textarea", { id: "approval-payload", rows: 3, cols: 60 }, '{"approved": true}');
  const result = el("div", { id: "approval-result" });
  const send = async (approved) => {
    let body;
    try {
      body = JSON.parse(payload.value || "null");
    } catch (e) {
      result.textContent = "The payload is not JSON: " + e.message;
      return;
    }
    if (body && typeof body === "object" && !Array.isArray(body)) body.approved = approved;
    try {
      await api(`/runs/${run.runId}/signals/${encodeURIComponent(run.awaitedSignals[0])}`,
        { method: "POST", headers: { "Content-Type": "application/json", Accept: "application/json" }, body: JSON.stringify(body) });
      result.textContent = approved ? "Approved." : "Rejected.";
      refresh();
    } catch (e) {
      result.textContent = e.message;
    }
  };
  return el("div", { class: "panel approval", id: "approval" },
    el("h2", {}, "Waiting for " + run.awaitedSignals.join(", ")),
    el("div", { class: "muted" }, "Payload (JSON, becomes the step's output)"), payload,
    el("div", {}, el("button", { id: "approve", onclick: () => send(true) }, "Approve"), " ",
      el("button", { id: "reject", onclick: () => send(false) }, "Reject")), result);
}

async function runPage(id) {
  const page = generation;
  const fail = error => { if (page === generation) refused(error); };
  let selected = null;
  let finished = false;
  // Kept across renders so a payload being typed survives the page reading the run again.
  let approval = null;
  let lastDrawn = "";
  const events = [];
  const render = async () => {
    const [run, trace] = await Promise.all([api("/runs/" + id), api("/ui/api/trace/" + id)]);
    finished = run.status === "succeeded" || run.status === "failed";
    // Drawn again only when something changed, so a selection or a click is not lost to a redraw.
    const drawn = JSON.stringify([run, trace.spans.length, selected, events.length]);
    if (drawn === lastDrawn) return;
    lastDrawn = drawn;
    const selectedSpan = trace.spans.find(s => s.spanId === selected) || null;
    const facts = el("div", { class: "grid panel" });
    const add = (key, value) => { if (value !== undefined && value !== null && value !== "") facts.append(el("div", { class: "muted" }, key), el("div", {}, value)); };
    add("status", statusCell(run.status)); add("workflow", run.workflow); add("run id", run.runId); add("trace id", run.traceId || trace.traceId);
    add("persona", [run.persona, run.chatmode].filter(Boolean).join(" / ")); add("session", run.session);
    add("started", run.startedAt); add("finished", run.finishedAt);
    if (run.usage) add("usage", `${run.usage.totalTokens} tokens, $${run.usage.costUsd ?? "?"}`);
    show(page,
      el("h1", {}, "Run of " + run.workflow),
      facts,
      approval = run.status === "waiting" ? approval || approvalPanel(run, () => render().catch(fail)) : null,
      run.error ? el("div", { class: "panel", id: "run-error" }, el("h2", {}, "Error"),
        el("div", {}, "at ", el("code", { id: "error-path" }, run.error.primitivePath)),
        el("pre", { class: "error" }, `${run.error.type}: ${run.error.message}`)) : null,
      el("h2", {}, "Output"), el("pre", { id: "output" }, text(run.output)),
      el("h2", {}, "Trace"), waterfall(trace.spans, span => { selected = span.spanId; render().catch(fail); }, selected),
      attributesPanel(selectedSpan),
      generations(trace.spans),
      el("h2", {}, "Step events"),
      el("ol", { id: "events" }, events.map(e => el("li", {}, e.type + (e.stepName ? " " + e.stepName : e.name ? " " + e.name : "") +
        (e.durationMs !== undefined ? " (" + ms(e.durationMs) + ")" : "")))));
  };
  await render();
  let pending = false;
  stream("/runs/" + id + "/events", event => {
    events.push(event);
    if (pending) return;
    pending = true;
    setTimeout(() => { pending = false; render().catch(fail); }, 200);
  });
  // Spans reach the store in batches, also after the last event: the page reads them again until the run is over.
  let after = 0;
  every(1500, () => { if (!finished || after++ < 3) render().catch(fail); });
}

// ---- Sessions ---------------------------------------------------------------------------------------------------

async function sessionsPage() {
  const page = generation;
  const list = await api("/sessions");
  show(page, el("h1", {}, "Sessions"),
    list.sessions.length === 0 ? el("p", { class: "muted" }, "No sessions on this node yet.") :
      el("ul", { id: "sessions" }, list.sessions.map(s => el("li", {}, el("a", { href: "#/session/" + encodeURIComponent(s) }, s)))));
}

function totalsTable(id, title, rows) {
  return [el("h2", {}, title), el("table", { id }, el("thead", {}, el("tr", {}, [title.split(" ").pop(), "Calls", "Input tokens", "Output tokens", "Cost"].map(h => el("th", {}, h)))),
    el("tbody", {}, rows.map(r => el("tr", {}, el("td", {}, r.key), el("td", {}, r.calls), el("td", {}, r.inputTokens), el("td", {}, r.outputTokens),
      el("td", {}, "$" + Number(r.costUsd).toFixed(6))))))];
}

async function sessionPage(id) {
  const page = generation;
  const data = await api("/ui/api/sessions/" + encodeURIComponent(id));
  const session = data.session;
  show(page,
    el("h1", {}, "Session " + session.id),
    el("div", { class: "grid panel" }, el("div", { class: "muted" }, "persona"), el("div", {}, [session.persona, session.chatmode].filter(Boolean).join(" / ")),
      el("div", { class: "muted" }, "runs"), el("div", {}, session.runs), el("div", { class: "muted" }, "tokens"), el("div", {}, session.tokens),
      el("div", { class: "muted" }, "cost"), el("div", {}, "$" + session.costUsd)),
    el("h2", {}, "Persona switches"),
    el("ul", { class: "timeline", id: "switches" }, session.switches.map(s =>
      el("li", {}, el("span", { class: "muted" }, when(s.at) + " "), (s.from || "(none)") + " \u2192 " + s.to + (s.chatmode ? " in " + s.chatmode : "")))),
    el("h2", {}, "Runs"),
    el("table", {}, el("tbody", { id: "session-runs" }, data.runs.map(runRow))),
    totalsTable("by-persona", "Tokens and cost by persona", data.byPersona),
    totalsTable("by-model", "Tokens and cost by model", data.byModel));
}

// ---- Workflows --------------------------------------------------------------------------------------------------

function graphNode(node) {
  return el("li", {}, el("span", { class: "node", "data-primitive": node.name }, node.name, el("span", { class: "type" }, node.type)),
    node.children.length ? el("ul", {}, node.children.map(graphNode)) : null);
}

async function workflowsPage() {
  const page = generation;
  const list = await api("/ui/api/workflows");
  show(page, el("h1", {}, "Workflows"), el("div", { id: "workflows" }, list.workflows.map(w => el("div", { class: "panel workflow", "data-workflow": w.name },
    el("h2", {}, w.name, w.durable ? el("span", { class: "muted" }, " (durable)") : null),
    el("div", { class: "muted" }, w.source), w.description ? el("p", {}, w.description) : null,
    w.valid ? el("div", { class: "tree" }, el("ul", {}, graphNode(w.graph)))
      : el("ul", { class: "problems" }, w.problems.map(p => el("li", { class: "problem" }, `${p.file}:${p.line}:${p.column}: ${p.message}`)))))));
}

// ---- Routing ----------------------------------------------------------------------------------------------------

async function route() {
  for (const stop of cleanup) stop();
  cleanup = [];
  generation++;
  const hash = location.hash || "#/runs";
  const [path, search] = hash.slice(1).split("?");
  const parts = path.split("/").filter(Boolean);
  for (const link of document.querySelectorAll("header nav a")) link.classList.toggle("current", hash.startsWith(link.getAttribute("href")));
  try {
    if (parts[0] === "run" && parts[1]) await runPage(parts[1]);
    else if (parts[0] === "sessions") await sessionsPage();
    else if (parts[0] === "session" && parts[1]) await sessionPage(decodeURIComponent(parts[1]));
    else if (parts[0] === "workflows") await workflowsPage();
    else await runsPage(new URLSearchParams(search || ""));
  } catch (error) {
    refused(error);
  }
}

window.addEventListener("hashchange", route);
route();
