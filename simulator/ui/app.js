// The crmsim dashboard. Plain JavaScript, no build step, no dependencies.
//
// It polls the control plane of the chosen namespace about once a second (GET journal,
// outbox, faults, clock, and state while the State tab is open) and redraws a part only when
// its document changed. Every change goes through the control plane too (reset, clock,
// faults). All text reaches the page through textContent, never as HTML.
"use strict";

const ROOT = document.body.dataset.root; // where crmsim is mounted, usually ""
const POLL_MS = 1000;
const JOURNAL_LIMIT = 500; // the newest entries the page asks for

const ui = {
  namespace: document.body.dataset.namespace || "default",
  tab: "journal",
  selected: null, // id of the journal entry open on the right
  docs: {}, // the last documents fetched, by name
  texts: {}, // ... and their raw text, to see whether anything changed
  tags: {}, // ... and their ETags, where the control plane gives one (the state)
  timer: null,
};

// -- small helpers -------------------------------------------------------------------------

const $ = (selector) => document.querySelector(selector);

/** Build an element: h("td", {class: "x"}, "text", child, ...). */
function h(tag, attrs, ...children) {
  const el = document.createElement(tag);
  for (const [name, value] of Object.entries(attrs || {})) {
    if (value === null || value === undefined || value === false) continue;
    if (name.startsWith("on")) el.addEventListener(name.slice(2), value);
    else el.setAttribute(name, value === true ? "" : String(value));
  }
  for (const child of children.flat()) {
    if (child === null || child === undefined || child === false) continue;
    el.append(child instanceof Node ? child : String(child));
  }
  return el;
}

/** The URL of a control-plane path in the chosen namespace ("default" is plain /__sim). */
function sim(path) {
  const ns = ui.namespace === "default" ? "" : `/__ns/${encodeURIComponent(ui.namespace)}`;
  return `${ROOT}${ns}/__sim${path}`;
}

// -- the control token ---------------------------------------------------------------------
// A crmsim started with a control token (CRMSIM_CONTROL_TOKEN) answers 401 without it. The
// page then asks for it once, keeps it in sessionStorage (this tab only, gone when the tab
// closes) and sends it as "Authorization: Bearer" on every control-plane call.

const TOKEN_KEY = "crmsim.controlToken";
let tokenQuestion = null; // the pending question: every call that got a 401 awaits its answer
let tokenDeclined = false; // cancelled: do not ask again until the page is reloaded

function askToken(refused) {
  if (!tokenQuestion) {
    tokenQuestion = Promise.resolve().then(() => {
      const answer = (window.prompt(
        refused
          ? "That control token was refused. The crmsim control token:"
          : "This crmsim's control plane needs its control token (CRMSIM_CONTROL_TOKEN):",
      ) || "").trim();
      if (answer) sessionStorage.setItem(TOKEN_KEY, answer);
      else tokenDeclined = true;
      tokenQuestion = null;
      return answer;
    });
  }
  return tokenQuestion;
}

/** fetch() for the control plane, with the control token when there is one. */
async function control(url, init = {}) {
  for (;;) {
    const token = sessionStorage.getItem(TOKEN_KEY);
    const headers = { ...(init.headers || {}) };
    if (token) headers.Authorization = `Bearer ${token}`;
    const response = await fetch(url, { ...init, headers });
    if (response.status !== 401 || tokenDeclined) return response;
    const now = sessionStorage.getItem(TOKEN_KEY);
    if (now && now !== token) continue; // answered meanwhile, for another call
    if (token) sessionStorage.removeItem(TOKEN_KEY);
    if (!(await askToken(Boolean(token)))) return response;
  }
}

/** Call the control plane; a problem document becomes an Error naming each bad field. */
async function call(method, path, body) {
  const init = { method, headers: {} };
  if (body !== undefined) {
    init.headers["Content-Type"] = "application/json";
    init.body = JSON.stringify(body);
  }
  return answer(await control(sim(path), init));
}

/** Load a state document as sent (a file's text): PUT, without the state echoed back. */
async function putState(path, text) {
  const headers = { "Content-Type": "application/json", Prefer: "return=minimal" };
  return answer(await control(sim(path), { method: "PUT", headers, body: text }));
}

/** A control-plane answer's document; a problem becomes an Error carrying it (.problem). */
async function answer(response) {
  const text = await response.text();
  let doc = null;
  try {
    doc = text ? JSON.parse(text) : null;
  } catch (error) {
    doc = null;
  }
  if (!response.ok) {
    const errors = (doc && doc.errors) || [];
    const where = errors.map((e) => `${e.pointer || "/"}: ${e.message}`).join("; ");
    const error = new Error(`${(doc && (doc.detail || doc.title)) || response.status}${where ? " — " + where : ""}`);
    error.problem = doc;
    throw error;
  }
  return doc;
}

/** A refusal in a box: what went wrong, then each error at its JSON pointer. */
function showProblem(box, error, pointer = (p) => p) {
  const problem = error.problem || {};
  box.replaceChildren(
    h("p", null, problem.detail || problem.title || error.message),
    (problem.errors || []).length
      ? h("ul", null, problem.errors.map((e) => h("li", null, h("code", null, pointer(e.pointer || "/") || "/"), " ", e.message)))
      : null,
  );
  box.hidden = false;
}

function matches(item, query) {
  return !query || JSON.stringify(item).toLowerCase().includes(query.toLowerCase());
}

function time(iso) {
  // "2024-06-01T12:00:00.123456Z" -> "12:00:00.123"
  const m = /T(\d\d:\d\d:\d\d)(\.\d{1,3})?/.exec(iso || "");
  return m ? m[1] + (m[2] || "") : iso || "";
}

/** The outcome of the last action (stays until the next one). */
function say(message, isError) {
  const el = $("#message");
  el.textContent = message;
  el.title = message;
  el.classList.toggle("error", Boolean(isError));
}

/** How polling goes. */
function pollStatus(message, isError) {
  const el = $("#status");
  el.textContent = message;
  el.classList.toggle("error", Boolean(isError));
}

function title(key) {
  return key.replace(/_/g, " ");
}

const isObject = (v) => v !== null && typeof v === "object" && !Array.isArray(v);
const isEmpty = (v) =>
  v === null || v === undefined || v === "" || (Array.isArray(v) && !v.length) ||
  (isObject(v) && !Object.keys(v).length);

// -- polling -------------------------------------------------------------------------------

/** Fetch a document; true when it differs from the last one seen. A document the control
 * plane tags (the state: an ETag that changes with every write) is asked for with
 * If-None-Match, and a 304 costs no body, no parse and no redraw. */
async function load(name, path) {
  const namespace = ui.namespace;
  const tag = ui.tags[name];
  const init = tag ? { headers: { "If-None-Match": tag }, cache: "no-store" } : { cache: "no-store" };
  const response = await control(sim(path), init);
  if (response.status === 401) throw new Error("the control plane needs its control token (reload the page to enter it)");
  if (response.status === 304) return false;
  if (!response.ok) throw new Error(`GET ${path}: ${response.status}`);
  const text = await response.text();
  if (namespace !== ui.namespace) return false; // the picker changed meanwhile
  if (response.headers.get("ETag")) ui.tags[name] = response.headers.get("ETag");
  if (ui.texts[name] === text) return false;
  ui.texts[name] = text;
  ui.docs[name] = JSON.parse(text);
  return true;
}

async function refresh() {
  try {
    const [journal, outbox, faults, clock] = await Promise.all([
      load("journal", `/journal?limit=${JOURNAL_LIMIT}`),
      load("outbox", "/outbox"),
      load("faults", "/faults"),
      load("clock", "/clock"),
    ]);
    if (journal) renderJournal();
    if (outbox) renderOutbox();
    if (faults) renderFaults();
    if (clock) renderClock();
    if (await load("state", "/state")) renderState();
    await loadNamespaces();
    pollStatus(`updated ${new Date().toLocaleTimeString()}`);
  } catch (error) {
    pollStatus(`cannot reach the simulator: ${error.message}`, true);
  }
}

function poll() {
  clearTimeout(ui.timer);
  refresh().finally(() => {
    if ($("#live").checked) ui.timer = setTimeout(poll, POLL_MS);
  });
}

/** After a change: show it at once, and say what went wrong if it failed. */
async function act(what, fn) {
  try {
    await fn();
    say(what);
  } catch (error) {
    say(`${what} failed: ${error.message}`, true);
    throw error;
  } finally {
    await refresh();
  }
}

// -- namespaces ----------------------------------------------------------------------------

async function loadNamespaces() {
  const response = await control(`${ROOT}/__sim/namespaces`);
  const names = (await response.json()).namespaces;
  // "default" is always there to pick, even before anything was written to it
  for (const name of ["default", ui.namespace]) if (!names.includes(name)) names.push(name);
  names.sort();
  const select = $("#namespace");
  const current = [...select.options].map((o) => o.value);
  if (current.join("\n") === names.join("\n")) return;
  select.replaceChildren(...names.map((n) => h("option", { value: n }, n)));
  select.value = ui.namespace;
}

function chooseNamespace(name, push = true) {
  ui.namespace = name;
  ui.selected = null;
  ui.docs = {};
  ui.texts = {};
  ui.tags = {};
  $("#namespace").value = name;
  closeDetail(false);
  if (push) remember();
  poll();
}

// -- links ---------------------------------------------------------------------------------
// The address names what is shown, so that it can be shared and back/forward work: the
// namespace in the path (/__ns/{name}/__sim/ui, "default" plain /__sim/ui), the tab and the
// journal entry open on the right in the hash (#state, #journal/12; the journal alone has
// none). Each choice pushes an address; the page restores from one on load and popstate.

const TABS = ["journal", "state", "outbox", "faults"];

/** The view an address names. */
function fromUrl() {
  const m = /\/__ns\/([^/]+)\/__sim\/ui\/?$/.exec(location.pathname);
  const namespace = m ? decodeURIComponent(m[1]) : "default";
  const [tab, id] = decodeURIComponent(location.hash.replace(/^#/, "")).split("/");
  return {
    namespace,
    tab: TABS.includes(tab) ? tab : "journal",
    entry: tab === "journal" && /^\d+$/.test(id || "") ? Number(id) : null,
  };
}

/** The address of what is shown now. */
function toUrl() {
  const ns = ui.namespace === "default" ? "" : `/__ns/${encodeURIComponent(ui.namespace)}`;
  const hash = ui.tab !== "journal" ? `#${ui.tab}` : ui.selected !== null ? `#journal/${ui.selected}` : "";
  return `${ROOT}${ns}/__sim/ui${hash}`;
}

/** A new history entry for what is shown now, unless the address already names it. */
function remember(replace = false) {
  const url = toUrl();
  if (url === location.pathname + location.hash) return;
  if (replace) history.replaceState(null, "", url);
  else history.pushState(null, "", url);
}

/** Show what the address names (on load, and on back/forward). */
function restore() {
  const view = fromUrl();
  if (view.namespace !== ui.namespace) chooseNamespace(view.namespace, false);
  showTab(view.tab, false);
  if (view.entry === null) closeDetail(false);
  else {
    ui.selected = view.entry;
    renderJournal();
  }
}

// -- tabs ----------------------------------------------------------------------------------

function showTab(tab, push = true) {
  ui.tab = tab;
  if (push) remember();
  for (const button of document.querySelectorAll("[data-tab]")) {
    button.setAttribute("aria-selected", String(button.dataset.tab === tab));
  }
  for (const section of document.querySelectorAll(".tab")) {
    section.hidden = section.id !== `tab-${tab}`;
  }
}

// -- journal -------------------------------------------------------------------------------

function statusClass(status) {
  if (status === null) return "st-drop";
  if (status >= 500) return "st-5xx";
  if (status >= 400) return "st-4xx";
  return "st-2xx";
}

function flags(entry) {
  return [
    entry.violations.length
      ? h("span", { class: "badge warn", title: entry.violations.map((v) => `${v.pointer}: ${v.message}`).join("\n") },
          `${entry.violations.length} violation${entry.violations.length > 1 ? "s" : ""}`)
      : null,
    entry.fault ? h("span", { class: "badge bad", title: "the fault rule that fired" }, `fault ${entry.fault}`) : null,
    entry.operation === null ? h("span", { class: "badge muted" }, "no route") : null,
    outcomeBadge(entry.outcomes),
    driftBadge(entry),
  ];
}

/** serve --shadow: how this answer differs from the real vendor's (docs/drift.md). */
function driftBadge(entry) {
  if (entry.drift && entry.drift.length) {
    const title = entry.drift.map((d) => `${d.kind} ${d.pointer || "/"}: ${d.detail}`).join("\n");
    return h("span", { class: "badge bad drift", title }, `drift ${entry.drift.length}`);
  }
  if (entry.shadow && entry.shadow !== "compared") {
    return h("span", { class: "badge muted", title: "the real vendor's answer (serve --shadow)" }, `shadow ${entry.shadow}`);
  }
  return null;
}

/** "2 created · 1 ignored": what the vendor did with the request's items (AntCRM). */
function outcomeSummary(outcomes) {
  const counts = new Map();
  for (const o of outcomes) counts.set(o.result, (counts.get(o.result) || 0) + 1);
  return [...counts].map(([result, n]) => `${n} ${result}`).join(" · ");
}

function outcomeBadge(outcomes) {
  if (!outcomes || !outcomes.length) return null;
  const ignored = outcomes.some((o) => o.result === "ignored");
  return h(
    "span",
    { class: `badge outcomes ${ignored ? "warn" : "info"}`, title: "what became of the request's items" },
    outcomeSummary(outcomes),
  );
}

function outcomesView(outcomes) {
  if (!outcomes || !outcomes.length) return null;
  return h(
    "section",
    { class: "outcomes" },
    h("h3", null, `Items (${outcomeSummary(outcomes)})`),
    h(
      "table",
      { class: "kv outcomes" },
      h("tr", null, ["#", "action", "result", "id", "detail"].map((c) => h("th", null, c))),
      outcomes.map((o) =>
        h(
          "tr",
          { class: `result-${o.result}`, "data-item": o.item },
          h("td", { class: "num" }, o.item),
          h("td", { class: "mono" }, o.actionType ?? "—"),
          h("td", null, h("span", { class: `badge ${o.result === "ignored" ? "warn" : "info"}` }, o.result)),
          h("td", { class: "mono" }, o.id ?? "—"),
          h("td", null, o.detail ?? ""),
        ),
      ),
    ),
  );
}

function renderJournal() {
  const entries = (ui.docs.journal?.entries || []).slice().reverse(); // newest first
  const query = $("#journal-search").value.trim();
  const shown = entries.filter((e) => matches(e, query));
  $("#count-journal").textContent = entries.length;
  $("#journal-empty").hidden = shown.length > 0;
  $("#journal tbody").replaceChildren(
    ...shown.map((e) => {
      const q = Object.entries(e.request.query || {}).map(([k, v]) => `${k}=${v}`).join("&");
      return h(
        "tr",
        {
          "data-id": e.id,
          class: e.id === ui.selected ? "selected" : null,
          onclick: () => select(e.id),
        },
        h("td", { class: "num" }, e.id),
        h("td", { class: "mono", title: e.at }, time(e.at)),
        h("td", { class: "mono" }, e.request.method),
        h("td", { class: "mono path" }, breakable(e.request.path + (q ? `?${q}` : ""))),
        h("td", { class: "mono path operation" }, e.operation ? breakable(e.operation, /(?<=[._])/) : "—"),
        h("td", null, h("span", { class: `status ${statusClass(e.response.status)}` }, e.response.status ?? "dropped")),
        h("td", { class: "num" }, e.duration_ms.toFixed(1)),
        h("td", { class: "flags" }, flags(e)),
      );
    }),
  );
  const entry = entries.find((e) => e.id === ui.selected);
  if (!entry) {
    // a linked entry waits for the first journal; one no longer kept closes
    if (ui.selected !== null && ui.docs.journal) {
      closeDetail(false);
      remember(true);
    }
  } else if ($("#detail").hidden || Number($("#detail").dataset.id) !== entry.id) renderDetail(entry);
}

/** A path and query that may wrap between words only: after "/", "?", "&", "=" or "_" (an
 * operation: after "." or "_"). */
function breakable(text, after = /(?<=[/?&=_])/) {
  const parts = text.split(after).map((part) => h("span", { class: "seg" }, part));
  return parts.flatMap((part, i) => (i ? [h("wbr"), part] : [part]));
}

function select(id) {
  ui.selected = id;
  remember();
  for (const row of document.querySelectorAll("#journal tbody tr")) {
    row.classList.toggle("selected", Number(row.dataset.id) === id);
  }
  const entry = (ui.docs.journal?.entries || []).find((e) => e.id === id);
  if (entry) renderDetail(entry);
}

function closeDetail(push = true) {
  const was = ui.selected;
  ui.selected = null;
  if (push && was !== null) remember();
  $("#detail").hidden = true;
  $("#detail").replaceChildren();
  for (const row of document.querySelectorAll("#journal tr.selected")) row.classList.remove("selected");
}

const pointerPart = (k) => String(k).replace(/~/g, "~0").replace(/\//g, "~1");

/** Does the JSON pointer name something inside doc? */
function resolves(doc, pointer) {
  let node = doc;
  for (const raw of pointer.split("/").slice(1)) {
    const key = raw.replace(/~1/g, "/").replace(/~0/g, "~");
    if (node === null || typeof node !== "object" || !(key in node)) return false;
    node = node[key];
  }
  return true;
}

/** A value as indented JSON, each member a span carrying its pointer; marked ones highlighted. */
function jsonView(value, marks) {
  const node = (v, pointer, depth, key) => {
    const span = h("span", { class: "jnode", "data-pointer": pointer });
    if (marks.has(pointer)) {
      span.classList.add("violation");
      span.title = marks.get(pointer).join("\n");
    }
    if (key !== undefined) span.append(h("span", { class: "jkey" }, JSON.stringify(key)), ": ");
    if (v !== null && typeof v === "object") {
      const array = Array.isArray(v);
      const items = array ? v.map((x, i) => [i, x]) : Object.entries(v);
      if (!items.length) {
        span.append(array ? "[]" : "{}");
        return span;
      }
      const pad = "  ".repeat(depth + 1);
      span.append(array ? "[" : "{", "\n");
      items.forEach(([k, x], i) => {
        span.append(pad, node(x, `${pointer}/${pointerPart(k)}`, depth + 1, array ? undefined : k));
        span.append(i < items.length - 1 ? ",\n" : "\n");
      });
      span.append("  ".repeat(depth), array ? "]" : "}");
    } else {
      const kind = v === null ? "null" : typeof v;
      span.append(h("span", { class: `j${kind}` }, JSON.stringify(v)));
    }
    return span;
  };
  return h("pre", { class: "json" }, node(value, "", 0));
}

function bodyView(body, marks) {
  if (body === null || body === undefined) return h("p", { class: "muted" }, "no body");
  if (typeof body === "string") return h("pre", { class: "json" }, body);
  return jsonView(body, marks);
}

function headersView(headers) {
  const names = Object.keys(headers || {});
  if (!names.length) return null;
  return h(
    "details",
    null,
    h("summary", null, `headers (${names.length})`),
    h("table", { class: "kv" }, names.map((n) => h("tr", null, h("th", null, n), h("td", { class: "mono" }, headers[n])))),
  );
}

function renderDetail(e) {
  // Each violation's pointer is into the request document: the body (JSON or form fields)
  // or, for a GET, the query. Highlight it wherever it resolves.
  const marks = new Map();
  for (const v of e.violations) {
    if (!marks.has(v.pointer)) marks.set(v.pointer, []);
    marks.get(v.pointer).push(`${v.keyword}: ${v.message}`);
  }
  const where = (v) =>
    resolves(e.request.body, v.pointer) ? "body" : resolves(e.request.query, v.pointer) ? "query" : "not in the request";
  const q = e.request.query || {};
  const detail = $("#detail");
  const parts = [
    h(
      "header",
      null,
      h("h2", { class: "path" }, `#${e.id} ${e.request.method} `, breakable(e.request.path)),
      h("button", { type: "button", class: "close", title: "close", onclick: () => closeDetail() }, "×"),
    ),
    h(
      "p",
      { class: "meta" },
      h("span", { class: `status ${statusClass(e.response.status)}` }, e.response.status ?? "dropped"),
      " ",
      e.operation || "no route matched",
      ` · ${e.duration_ms} ms · ${e.at}`,
      " ",
      flags(e),
    ),
    e.violations.length
      ? h(
          "section",
          { class: "violations" },
          h("h3", null, "Contract violations"),
          h(
            "ul",
            null,
            e.violations.map((v) =>
              h("li", null, h("code", null, v.pointer || "/"), " ", v.message, " ", h("span", { class: "muted" }, `(${v.keyword}, ${where(v)})`)),
            ),
          ),
        )
      : null,
    outcomesView(e.outcomes),
    h("h3", null, "Request"),
    Object.keys(q).length ? [h("h4", null, "query"), jsonView(q, marks)] : null,
    headersView(e.request.headers),
    h("h4", null, "body"),
    bodyView(e.request.body, marks),
    h("h3", null, "Response"),
    headersView(e.response.headers),
    h("h4", null, "body"),
    bodyView(e.response.body, new Map()),
  ];
  detail.replaceChildren(...parts.flat().filter(Boolean));
  detail.dataset.id = e.id;
  detail.hidden = false;
}

// -- state ---------------------------------------------------------------------------------

// Vendor-specific touches; everything else is drawn from the state document as it comes, so
// new lists and fields appear without changes here.
const CUSTOM = {
  botw: {
    contacts: { groupBy: "listing_id", groupTitle: (v) => `listing ${v}` },
    api_keys: { keyTitle: "key", valueTitle: "listings" },
    blacklist: { keyTitle: "listing" },
  },
  antcrm: {
    customers: {
      first: ["customerId", "kind", "name", "lastname", "company", "emails", "phones", "history", "notes"],
      derive: {
        // The company (an account) a contact belongs to, by name.
        company: (row, doc) => {
          if (!row.companyId) return null;
          const account = doc.customers.find((c) => c.customerId === row.companyId);
          return account ? `${account.name || "(no name)"} · ${row.companyId}` : row.companyId;
        },
      },
    },
  },
  crmcom: {
    contacts: { first: ["id", "number", "type", "first_name", "last_name", "company_name", "emails_set", "phones_set"] },
    tokens: { first: ["token", "issued_at", "released_at", "username", "web_api_key"] },
  },
};

// In a list of objects, these fields stand for the whole item ("emails": [{"value": …}]).
const LABEL_FIELDS = ["value", "email_address", "number", "email", "phone", "name"];

/** Values in a row, wrapping between them only (a phone number or an address stays whole). */
const values = (list) => list.flatMap((v, i) => [i ? ", " : null, h("span", { class: "nowrap" }, String(v))]);

/** One cell's content: scalars as text, lists compact, anything bigger folded away. */
function cell(value, key) {
  if (value === null || value === undefined || value === "") return h("span", { class: "muted" }, "—");
  if (typeof value !== "object") return String(value);
  if (Array.isArray(value)) {
    if (!value.length) return h("span", { class: "muted" }, "—");
    if (value.every((v) => !isObject(v) && !Array.isArray(v))) return values(value);
    const label = LABEL_FIELDS.find((f) => value.every((v) => isObject(v) && typeof v[f] !== "object" && f in v));
    if (label && value.every((v) => Object.values(v).every((x) => typeof x !== "object" || x === null))) {
      return values(value.map((v) => v[label]));
    }
    return h(
      "details",
      { "data-key": key },
      h("summary", null, `${value.length} ${value.length === 1 ? "entry" : "entries"}`),
      recordTable(value, key),
    );
  }
  const present = Object.entries(value).filter(([, v]) => !isEmpty(v));
  if (!present.length) return h("span", { class: "muted" }, "—");
  return h(
    "details",
    { "data-key": key },
    h("summary", null, present.map(([k]) => k).slice(0, 3).join(", ") + (present.length > 3 ? ", …" : "")),
    h("table", { class: "kv" }, present.map(([k, v]) => h("tr", null, h("th", null, k), h("td", null, cell(v, `${key}/${k}`))))),
  );
}

/** A table of records: a column per field that is set in some record, ``first`` ones first;
 * with ``edit``, each row starts with a button that opens its record in the editor. */
function recordTable(rows, key, custom = {}, doc = {}, edit = null) {
  const derive = custom.derive || {};
  const columns = [];
  for (const name of custom.first || []) {
    if (name in derive || rows.some((r) => !isEmpty(r[name]))) columns.push(name);
  }
  for (const row of rows) {
    for (const name of Object.keys(row)) {
      if (!columns.includes(name) && rows.some((r) => !isEmpty(r[name]))) columns.push(name);
    }
  }
  const value = (row, name) => (name in derive ? derive[name](row, doc) : row[name]);
  return h(
    "table",
    { class: "grid records" },
    h("thead", null, h("tr", null, edit ? h("th", null, "") : null, columns.map((c) => h("th", null, c)))),
    h(
      "tbody",
      null,
      rows.map((row, i) =>
        h(
          "tr",
          null,
          edit
            ? h("td", { class: "edit" }, h("button", { type: "button", class: "edit", title: "edit this record as JSON", onclick: () => edit(row) }, "edit"))
            : null,
          columns.map((c) => {
            const v = value(row, c);
            const scalar = v === null || typeof v !== "object";
            const long = typeof v === "string" && v.length > 30;
            return h("td", { "data-col": c, class: scalar ? "scalar" : null, title: long ? v : null }, cell(v, `${key}/${i}/${c}`));
          }),
        ),
      ),
    ),
  );
}

/** A map (api keys, blacklist): one row per key. */
function mapTable(map, key, custom = {}) {
  const keys = Object.keys(map);
  const objects = keys.every((k) => isObject(map[k]));
  const fields = objects ? [...new Set(keys.flatMap((k) => Object.keys(map[k])))] : [custom.valueTitle || "value"];
  return h(
    "table",
    { class: "grid records" },
    h("thead", null, h("tr", null, h("th", null, custom.keyTitle || "key"), fields.map((f) => h("th", null, f)))),
    h(
      "tbody",
      null,
      keys.map((k) =>
        h(
          "tr",
          null,
          h("td", { class: "mono" }, k),
          objects ? fields.map((f) => h("td", null, cell(map[k][f], `${key}/${k}/${f}`))) : h("td", null, cell(map[k], `${key}/${k}`)),
        ),
      ),
    ),
  );
}

/** A table wider than the view scrolls sideways on its own, its scroll bar right below it. */
const wide = (table) => h("div", { class: "hscroll" }, table);

function stateTable(vendor, key, value, doc, query) {
  const custom = (CUSTOM[vendor] || {})[key] || {};
  const path = `${vendor}/${key}`;
  const edit = (record) => editRecord(vendor, key, record);
  const head = (shown, total) =>
    h("h3", null, title(key), " ", h("span", { class: "count" }, shown === total ? total : `${shown} of ${total}`));
  if (Array.isArray(value) && value.some(isObject)) {
    const rows = value.filter((r) => matches(r, query));
    const parts = [head(rows.length, value.length)];
    if (!rows.length) parts.push(h("p", { class: "muted" }, "no match"));
    else if (custom.groupBy) {
      const groups = new Map();
      for (const r of rows) groups.set(r[custom.groupBy], [...(groups.get(r[custom.groupBy]) || []), r]);
      for (const [g, members] of groups) {
        parts.push(h("h4", null, custom.groupTitle(g), " ", h("span", { class: "count" }, members.length)));
        parts.push(wide(recordTable(members, `${path}/${g}`, custom, doc, edit)));
      }
    } else parts.push(wide(recordTable(rows, path, custom, doc, edit)));
    return h("div", { class: "table", "data-table": path }, parts);
  }
  if (isObject(value)) {
    const keys = Object.keys(value).filter((k) => matches({ [k]: value[k] }, query));
    const map = Object.fromEntries(keys.map((k) => [k, value[k]]));
    return h(
      "div",
      { class: "table", "data-table": path },
      head(keys.length, Object.keys(value).length),
      keys.length ? wide(mapTable(map, path, custom)) : h("p", { class: "muted" }, query ? "no match" : "empty"),
    );
  }
  // A scalar or a list of scalars: one line.
  const empty = isEmpty(value);
  return h(
    "div",
    { class: "table line", "data-table": path },
    h("h3", null, title(key)),
    h("span", { class: empty ? "muted" : "mono" }, empty ? "empty" : cell(value, path)),
  );
}

function renderState() {
  const state = ui.docs.state || {};
  const query = $("#state-search").value.trim();
  const only = $("#state-vendor").value;
  const vendors = Object.keys(state);
  const select = $("#state-vendor");
  if (select.options.length !== vendors.length + 1) {
    select.replaceChildren(h("option", { value: "" }, "all vendors"), ...vendors.map((v) => h("option", { value: v }, v)));
    select.value = vendors.includes(only) ? only : "";
  }
  // The fault form offers the same vendors.
  const faultVendor = $("#fault-form [name=vendor]");
  if (faultVendor.options.length !== vendors.length + 1) {
    faultVendor.replaceChildren(h("option", { value: "" }, "any"), ...vendors.map((v) => h("option", { value: v }, v)));
  }
  let records = 0;
  for (const doc of Object.values(state)) {
    for (const value of Object.values(doc)) if (Array.isArray(value) && value.some(isObject)) records += value.length;
  }
  $("#count-state").textContent = `${records} record${records === 1 ? "" : "s"}`;

  const container = $("#state");
  const open = new Set([...container.querySelectorAll("details[open]")].map((d) => d.dataset.key));
  container.replaceChildren(
    ...vendors
      .filter((v) => !only || v === only)
      .map((vendor) => {
        // Empty lists and maps share one line at the end, so what is there stands out.
        const parts = Object.entries(state[vendor]);
        const empty = parts.filter(([, value]) => isEmpty(value)).map(([key]) => title(key));
        return h(
          "section",
          { class: "vendor", "data-vendor": vendor },
          h("h2", null, vendor),
          parts
            .filter(([, value]) => !isEmpty(value))
            .map(([key, value]) => stateTable(vendor, key, value, state[vendor], query)),
          empty.length ? h("p", { class: "muted empties" }, `empty: ${empty.join(", ")}`) : null,
        );
      }),
  );
  for (const d of container.querySelectorAll("details")) if (open.has(d.dataset.key)) d.open = true;
}

// -- editing the state ---------------------------------------------------------------------
// A state file replaces the whole state (PUT /__sim/state, Prefer: return=minimal); one
// record is edited as JSON and saved as its vendor's part with that record replaced (PUT
// /__sim/state/{vendor}). Either is all or nothing: a refusal lists each error at its pointer.

async function loadStateFile(input) {
  const file = input.files[0];
  if (!file) return;
  const text = await file.text();
  input.value = ""; // the same file can be chosen again
  const box = $("#state-error");
  box.hidden = true;
  if (!confirm(`Load ${file.name} into namespace "${ui.namespace}"? It replaces the whole state.`)) return;
  try {
    await act(`state loaded from ${file.name}`, () => putState("/state", text));
  } catch (error) {
    showProblem(box, error);
  }
}

function editRecord(vendor, key, record) {
  ui.editing = { vendor, key, original: JSON.stringify(record) };
  $("#editor-title").textContent = `${vendor} ${key}: one record`;
  $("#editor-text").value = JSON.stringify(record, null, 2);
  $("#editor-errors").hidden = true;
  $("#editor").showModal();
}

async function saveRecord() {
  const { vendor, key, original } = ui.editing;
  const box = $("#editor-errors");
  box.hidden = true;
  let record;
  try {
    record = JSON.parse($("#editor-text").value);
  } catch (error) {
    showProblem(box, new Error(`not JSON: ${error.message}`));
    return;
  }
  let index = -1;
  try {
    await act(`${vendor} ${key}: record saved`, async () => {
      const part = await call("GET", `/state/${vendor}`);
      index = (part[key] || []).findIndex((r) => JSON.stringify(r) === original);
      if (index < 0) throw new Error("the record changed or went meanwhile: close this and edit it again");
      part[key][index] = record;
      await putState(`/state/${vendor}`, JSON.stringify(part));
    });
    $("#editor").close();
  } catch (error) {
    // pointers into this record read as such (/email, not /contacts/3/email)
    const mine = `/${key}/${index}`;
    showProblem(box, error, (p) => (index >= 0 && (p === mine || p.startsWith(`${mine}/`)) ? p.slice(mine.length) : p));
  }
}

// -- outbox --------------------------------------------------------------------------------

function renderOutbox() {
  const entries = (ui.docs.outbox?.entries || []).slice().reverse();
  const query = $("#outbox-search").value.trim();
  const shown = entries.filter((e) => matches(e, query));
  $("#count-outbox").textContent = entries.length;
  $("#outbox-empty").hidden = shown.length > 0;
  const open = new Set([...document.querySelectorAll("#outbox details[open]")].map((d) => d.dataset.key));
  $("#outbox tbody").replaceChildren(
    ...shown.map((e) => {
      const { id, at, vendor, kind, ...rest } = e;
      const to = [e.to, e.email, e.mobileno].filter(Boolean).join(", ");
      const what = e.subject || e.content || (e.campaign_id ? `survey of campaign ${e.campaign_id}` : "");
      return h(
        "tr",
        { "data-id": id },
        h("td", { class: "num" }, id),
        h("td", { class: "mono", title: at }, time(at)),
        h("td", null, vendor),
        h("td", null, h("span", { class: `badge kind-${kind}` }, kind)),
        h("td", { class: "mono" }, to || "—"),
        h("td", null, what),
        h("td", null, h("details", { "data-key": `outbox/${id}`, open: open.has(`outbox/${id}`) }, h("summary", null, "all fields"), jsonView(rest, new Map()))),
      );
    }),
  );
}

// -- faults --------------------------------------------------------------------------------

// a delay: milliseconds, or a distribution (schemas/sim/latency.json)
function describeDelay(d) {
  if (typeof d === "number") return `${d} ms`;
  if (d.fixed !== undefined) return `${d.fixed} ms`;
  if (d.uniform) return `${d.uniform.min}–${d.uniform.max} ms (uniform)`;
  return `~${d.lognormal.median} ms (lognormal, sigma ${d.lognormal.sigma})`;
}

function describeFault(f) {
  const selects = ["vendor", "operation", "method", "path"].filter((k) => f[k]).map((k) => `${k} ${f[k]}`);
  let does = f.status ? `answers ${f.status}` : f.rate_limit ? `429, Retry-After ${f.rate_limit.retry_after ?? 1}` : f.drop ? "drops the connection" : "";
  if (f.delay_ms) does = does ? `${does} after ${describeDelay(f.delay_ms)}` : `delays ${describeDelay(f.delay_ms)}`;
  const shaped = [
    f.malformed && "malformed body",
    f.truncate && "body cut short",
    f.dribble && `body dribbled in ${f.dribble.chunks} pieces over ${f.dribble.total_ms} ms`,
  ].filter(Boolean);
  if (shaped.length) does = [does, ...shaped].filter(Boolean).join(", ");
  const fires = f.times
    ? `the first ${f.times} match${f.times > 1 ? "es" : ""}`
    : f.every
      ? `every ${f.every}th match`
      : f.probability !== undefined
        ? `with probability ${f.probability}`
        : "always";
  return { selects: selects.join(", ") || "every vendor request", does, fires };
}

function renderFaults() {
  const faults = ui.docs.faults?.faults || [];
  $("#count-faults").textContent = faults.length;
  $("#faults-empty").hidden = faults.length > 0;
  $("#faults tbody").replaceChildren(
    ...faults.map((f) => {
      const d = describeFault(f);
      return h(
        "tr",
        { "data-id": f.id },
        h("td", { class: "mono" }, f.id),
        h("td", null, d.selects),
        h("td", null, d.does),
        h("td", null, d.fires),
        h("td", { class: "num" }, f.matched),
        h("td", { class: "num" }, f.fired),
        h(
          "td",
          null,
          h("button", { type: "button", onclick: () => act(`removed fault ${f.id}`, () => call("DELETE", `/faults/${encodeURIComponent(f.id)}`)) }, "Remove"),
        ),
      );
    }),
  );
}

/** The fault form as the JSON document POST /__sim/faults expects. */
function faultDocument(form) {
  const v = (name) => form.elements[name].value.trim();
  const rule = {};
  for (const name of ["vendor", "operation", "method", "path"]) if (v(name)) rule[name] = v(name);
  const action = v("action");
  if (action === "status") rule.status = Number(v("status"));
  if (action === "rate_limit") rule.rate_limit = { retry_after: Number(v("retry_after") || 1) };
  if (action === "drop") rule.drop = true;
  if (v("delay_ms") || action === "delay") rule.delay_ms = Number(v("delay_ms") || 0);
  const when = v("when");
  if (when !== "always") rule[when] = Number(v("n"));
  return rule;
}

/** The vendors' operations (operationId of the OpenAPI document), once per page. */
async function loadOperations() {
  try {
    const response = await control(`${ROOT}/__sim/openapi.json`);
    if (!response.ok) return;
    const paths = (await response.json()).paths || {};
    const ids = Object.values(paths).flatMap((ops) => Object.values(ops).map((op) => op && op.operationId));
    ui.operations = [...new Set(ids.filter((id) => typeof id === "string" && !id.startsWith("sim.")))].sort();
    const vendors = [...new Set(ui.operations.map((id) => id.split(".")[0]))];
    const select = $("#fault-form [name=vendor]");
    for (const v of vendors) if (![...select.options].some((o) => o.value === v)) select.append(h("option", { value: v }, v));
    syncFaultForm();
  } catch (error) {
    // the form still takes any operation typed
  }
}

/** Offer the chosen vendor's operations (every vendor's with "any"). */
function syncOperations() {
  const form = $("#fault-form");
  const vendor = form.elements.vendor.value;
  const offered = (ui.operations || []).filter((id) => !vendor || id.startsWith(`${vendor}.`));
  const list = $("#fault-operations");
  if ([...list.options].map((o) => o.value).join("\n") !== offered.join("\n")) {
    list.replaceChildren(...offered.map((id) => h("option", { value: id })));
  }
  const typed = form.elements.operation.value.trim();
  if (vendor && typed && ui.operations?.includes(typed) && !offered.includes(typed)) form.elements.operation.value = "";
}

function syncFaultForm() {
  syncOperations();
  const form = $("#fault-form");
  const action = form.elements.action.value;
  form.querySelector("[data-for=status]").hidden = action !== "status";
  form.querySelector("[data-for=rate_limit]").hidden = action !== "rate_limit";
  form.querySelector("[data-for=n]").hidden = form.elements.when.value === "always";
}

// -- clock ---------------------------------------------------------------------------------

function renderClock() {
  const clock = ui.docs.clock;
  $("#clock-now").textContent = clock.now.replace("T", " ").replace(/\.\d+Z$/, "Z"); // to the second
  $("#clock-now").dateTime = clock.now;
  const mode = $("#clock-mode");
  mode.textContent = clock.frozen ? "frozen" : "running";
  mode.className = `badge ${clock.frozen ? "info" : "muted"}`;
  $("#clock-release").disabled = !clock.frozen;
}

// -- wiring --------------------------------------------------------------------------------

function wire() {
  for (const button of document.querySelectorAll("[data-tab]")) {
    button.addEventListener("click", () => showTab(button.dataset.tab));
  }
  $("#namespace").addEventListener("change", (e) => chooseNamespace(e.target.value));
  $("#live").addEventListener("change", () => poll());
  $("#journal-search").addEventListener("input", renderJournal);
  $("#state-search").addEventListener("input", renderState);
  $("#state-vendor").addEventListener("change", renderState);
  $("#outbox-search").addEventListener("input", renderOutbox);
  $("#state-file").addEventListener("change", (e) => loadStateFile(e.target));
  $("#editor-form").addEventListener("submit", (e) => {
    e.preventDefault();
    saveRecord();
  });
  $("#editor-cancel").addEventListener("click", () => $("#editor").close());

  $("#reset").addEventListener("click", () => {
    if (!confirm(`Reset namespace "${ui.namespace}"? State, journal, outbox and fault rules are emptied.`)) return;
    closeDetail();
    act(`namespace ${ui.namespace} reset`, () => call("POST", "/reset")).catch(() => {});
  });
  $("#journal-clear").addEventListener("click", () => {
    closeDetail();
    act("journal cleared", () => call("DELETE", "/journal")).catch(() => {});
  });
  $("#outbox-clear").addEventListener("click", () => act("outbox cleared", () => call("DELETE", "/outbox")).catch(() => {}));

  $("#clock-freeze").addEventListener("submit", (e) => {
    e.preventDefault();
    const at = $("#clock-at").value.trim() || ui.docs.clock?.now;
    act(`clock frozen at ${at}`, () => call("PUT", "/clock", { now: at })).catch(() => {});
  });
  $("#clock-advance").addEventListener("submit", (e) => {
    e.preventDefault();
    const seconds = Number($("#clock-seconds").value);
    act(`clock advanced ${seconds} s`, () => call("POST", "/clock/advance", { seconds })).catch(() => {});
  });
  $("#clock-release").addEventListener("click", () =>
    act("clock back to real time", () => call("PUT", "/clock", { now: null })).catch(() => {}),
  );

  const form = $("#fault-form");
  form.addEventListener("change", syncFaultForm);
  form.addEventListener("submit", async (e) => {
    e.preventDefault();
    $("#fault-error").textContent = "";
    try {
      await act("fault rule added", () => call("POST", "/faults", faultDocument(form)));
    } catch (error) {
      $("#fault-error").textContent = error.message;
    }
  });
  syncFaultForm();
}

wire();
loadOperations();
restore();
window.addEventListener("popstate", restore);
poll();
