// 无忧服务台 admin pages: forms over the same documents the org file holds (GET/PUT /api/v1/org, /catalog,
// /routing-rules, /sla-policies). Each section is a list of records edited in place and saved as a whole, so
// the server validates it exactly as it validates the file; "JSON" shows the raw document for bulk edits.
"use strict";

const PRIORITY_OPTIONS = ["P1", "P2", "P3", "P4"];
const ROLE_OPTIONS = ["reporter", "engineer", "lead", "admin"];
const CHANNEL_OPTIONS = ["wechat", "wecom", "telegram", "http"];

// --- values at a dotted path, with empty values dropped so the saved document stays the file's shape ------

function getAt(obj, path) {
  return path.split(".").reduce((o, k) => (o == null ? undefined : o[k]), obj);
}

function setAt(obj, path, value) {
  const keys = path.split(".");
  const last = keys.pop();
  let o = obj;
  const trail = [];
  for (const k of keys) {
    if (o[k] == null || typeof o[k] !== "object") o[k] = {};
    trail.push([o, k]);
    o = o[k];
  }
  const empty = value === undefined || value === "" || (Array.isArray(value) && !value.length)
    || (value && typeof value === "object" && !Array.isArray(value) && !Object.keys(value).length);
  if (empty) delete o[last]; else o[last] = value;
  for (const [parent, k] of trail.reverse()) if (!Object.keys(parent[k]).length) delete parent[k];
}

const splitList = (text) => String(text || "").split(/[,，、\s]+/).map((s) => s.trim()).filter(Boolean);

const FIELD_TYPES = {
  text: { show: (v) => (v == null ? "" : String(v)), read: (s) => s.trim() },
  number: { show: (v) => (v == null ? "" : String(v)), read: (s) => (s.trim() === "" ? undefined : (/^\d+$/.test(s.trim()) ? Number(s.trim()) : s.trim())) },
  list: { show: (v) => (Array.isArray(v) ? v.join(", ") : v == null ? "" : String(v)), read: splitList },
  pairs: {  // {wechat: "o123", http: "li.wei"} ⇄ "wechat:o123, http:li.wei"
    show: (v) => Object.entries(v || {}).map(([k, x]) => `${k}:${x}`).join(", "),
    read: (s) => Object.fromEntries(splitList(s).map((p) => { const i = p.indexOf(":"); return i < 0 ? [p, ""] : [p.slice(0, i), p.slice(i + 1)]; }).filter(([k, x]) => k && x)),
  },
  select: { show: (v) => (v == null ? "" : String(v)), read: (s) => s },
  check: { show: (v) => v, read: (b) => b },
};

// --- one editable list of records ------------------------------------------------------------------------

function fieldInput(field, value) {
  const type = FIELD_TYPES[field.type || "text"];
  const given = type.show(value);
  const shown = field.blankValue !== undefined && given === field.blankValue ? "" : given;  // (the default, by name)
  const label = esc(T("f_" + field.key.replace(/\./g, "_")));
  if (field.type === "check") {
    return `<input type="checkbox" data-key="${esc(field.key)}" aria-label="${label}" ${shown ? "checked" : ""}>`;
  }
  if (field.type === "select") {
    const options = (typeof field.options === "function" ? field.options() : field.options) || [];
    const known = options.some(([v]) => String(v) === shown);
    const list = [["", field.blank ? T(field.blank) : "—"], ...options, ...(known || !shown ? [] : [[shown, shown]])];
    return `<select data-key="${esc(field.key)}" aria-label="${label}">${list.map(([v, l]) =>
      `<option value="${esc(v)}" ${String(v) === shown ? "selected" : ""}>${esc(l)}</option>`).join("")}</select>`;
  }
  return `<input data-key="${esc(field.key)}" aria-label="${label}" value="${esc(shown)}" ${field.required ? "required" : ""}`
    + ` ${field.hint ? `placeholder="${esc(T(field.hint))}"` : ""} size="${field.size || 10}">`;
}

class RecordList {
  // rows: the section's records; each keeps the keys the form does not show (a category's page, …).
  constructor(root, { fields, rows, layout = "table", add = true, remove = true, order = false, filter = false }) {
    Object.assign(this, { root, fields, layout, add, remove, order, filter });
    this.rows = rows.map((r) => JSON.parse(JSON.stringify(r)));
    this.render();
  }

  collect() {  // the inputs' values written back into the rows
    $$("[data-row]", this.root).forEach((el) => {
      const row = this.rows[Number(el.dataset.row)];
      $$("[data-key]", el).forEach((input) => {
        const field = this.fields.find((f) => f.key === input.dataset.key);
        const type = FIELD_TYPES[field.type || "text"];
        setAt(row, field.key, type.read(field.type === "check" ? input.checked : input.value));
      });
    });
    return this.rows;
  }

  render() {
    const buttons = (i) => [
      this.order ? `<button type="button" class="secondary" data-up="${i}" title="${esc(T("move_up"))}" ${i === 0 ? "disabled" : ""}>↑</button>` : "",
      this.order ? `<button type="button" class="secondary" data-down="${i}" title="${esc(T("move_down"))}" ${i === this.rows.length - 1 ? "disabled" : ""}>↓</button>` : "",
      this.remove ? `<button type="button" class="secondary danger" data-remove="${i}">${esc(T("remove"))}</button>` : "",
    ].join(" ");
    const filterBox = this.filter ? `<input type="search" class="rows-filter" placeholder="${esc(T("filter"))}" aria-label="${esc(T("filter"))}">` : "";
    const addButton = this.add ? `<button type="button" class="secondary" data-add>${esc(T("add"))}</button>` : "";
    if (this.layout === "cards") {
      this.root.innerHTML = filterBox + this.rows.map((row, i) => `<fieldset class="record" data-row="${i}"><legend>${i + 1}</legend>`
        + `<div class="fields">${this.fields.map((f) => `<label>${esc(T("f_" + f.key.replace(/\./g, "_")))}${fieldInput(f, getAt(row, f.key))}</label>`).join("")}</div>`
        + `<p>${buttons(i)}</p></fieldset>`).join("") + `<p>${addButton}</p>`;
    } else {
      this.root.innerHTML = filterBox + `<table class="list records"><thead><tr>${this.fields.map((f) => `<th>${esc(T("f_" + f.key.replace(/\./g, "_")))}</th>`).join("")}<th></th></tr></thead>`
        + `<tbody>${this.rows.map((row, i) => `<tr data-row="${i}">${this.fields.map((f) => `<td>${fieldInput(f, getAt(row, f.key))}</td>`).join("")}<td class="row-actions">${buttons(i)}</td></tr>`).join("")}</tbody></table>`
        + `<p>${addButton}</p>`;
    }
    const act = (attr, fn) => $$(`[${attr}]`, this.root).forEach((b) => b.addEventListener("click", () => { this.collect(); fn(Number(b.getAttribute(attr))); this.render(); }));
    act("data-remove", (i) => this.rows.splice(i, 1));
    act("data-up", (i) => this.rows.splice(i - 1, 0, ...this.rows.splice(i, 1)));
    act("data-down", (i) => this.rows.splice(i + 1, 0, ...this.rows.splice(i, 1)));
    act("data-add", () => {  // a new record starts with the fields' defaults (a new rule is active)
      const row = {};
      for (const f of this.fields) if (f.default !== undefined) setAt(row, f.key, f.default);
      this.rows.push(row);
    });
    const box = $(".rows-filter", this.root);
    if (box) box.addEventListener("input", () => {
      const q = box.value.trim().toLowerCase();
      $$("[data-row]", this.root).forEach((el) => {
        el.hidden = q && !$$("input, select", el).some((x) => String(x.value).toLowerCase().includes(q));
      });
    });
  }
}

// --- the documents -------------------------------------------------------------------------------------------

function flattenRegions(tree, parent = null, out = []) {
  for (const r of tree || []) {
    const { children, ...rest } = r;
    out.push({ ...rest, parent });
    flattenRegions(children, r.code, out);
  }
  return out;
}

function regionTree(rows) {
  const nodes = new Map(rows.map((r) => { const { parent, ...rest } = r; return [r.code, { ...rest }]; }));
  const roots = [];
  for (const r of rows) {
    const node = nodes.get(r.code);
    const parent = r.parent && nodes.get(r.parent);
    if (parent) (parent.children = parent.children || []).push(node); else roots.push(node);
  }
  return roots;
}

// Each stored leaf remembers where it was (`_was`): a name or group edited in the form renames it (`was:`), so its
// tickets, rules and reports follow it, instead of adding another.
const flattenCatalog = (doc) => doc.flatMap((top) => (top.children || []).map((c) => ({ group: top.name, _was: `${top.name}/${c.name}`, ...c })));

function catalogTree(rows) {
  const groups = new Map();
  for (const { group, _was, ...leaf } of rows) {
    const name = group || T("f_group");
    if (!groups.has(name)) groups.set(name, []);
    if (_was && _was !== `${name}/${leaf.name}`) leaf.was = _was;
    if (leaf.name) groups.get(name).push(leaf);
  }
  return Array.from(groups, ([name, children]) => ({ name, children }));
}

async function adminForms(section) {
  const org = await api("GET", "/api/v1/org");  // the whole directory: catalog, rules and policies included
  const pairs = (items, value, label) => items.map((x) => [value(x), label(x)]);
  const regions = () => pairs(flattenRegions(org.regions), (r) => r.code, (r) => `${r.code} · ${r.name}`);
  const branches = () => pairs(org.branches, (b) => b.code, (b) => `${b.code} · ${b.name}`);
  const teams = () => pairs(org.teams, (t) => t.code, (t) => `${t.code} · ${t.name}`);
  const staff = () => pairs(org.people.filter((p) => p.role !== "reporter"), (p) => p.id, (p) => `${p.id} · ${p.name}`);
  const forms = {
    regions: { rows: flattenRegions(org.regions), remove: false, fields: [
      { key: "code", required: true }, { key: "name", size: 16 }, { key: "parent", type: "select", options: regions, blank: "top_level" }],
      save: (rows) => api("PUT", "/api/v1/org", { regions: regionTree(rows) }) },
    branches: { rows: org.branches, remove: false, filter: true, fields: [
      { key: "code", required: true }, { key: "name", size: 16 }, { key: "region", type: "select", options: regions },
      { key: "hours", size: 26, hint: "inherited" }, { key: "address", size: 24 }, { key: "phone", size: 12 }],
      save: (rows) => api("PUT", "/api/v1/org", { branches: rows }) },
    teams: { rows: org.teams, remove: false, layout: "cards", fields: [
      { key: "code", required: true }, { key: "name", size: 14 }, { key: "region", type: "select", options: regions },
      { key: "speciality" }, { key: "lead", type: "select", options: staff }, { key: "members", type: "list", size: 24 },
      { key: "oncall", type: "list", size: 24 },
      { key: "hours", size: 26, hint: "inherited" }],
      save: (rows) => api("PUT", "/api/v1/org", { teams: rows }) },
    people: { rows: org.people, filter: true, fields: [
      { key: "id", required: true }, { key: "name" }, { key: "role", type: "select", options: ROLE_OPTIONS.map((r) => [r, T("role_" + r)]) },
      { key: "branch", type: "select", options: branches }, { key: "locale", type: "select", options: [["en", "English"]], blank: "zh_cn" },
      { key: "phone", size: 12 },
      { key: "identities", type: "pairs", size: 28, hint: "identities_hint" }],
      // a person taken off the list is deactivated (their tickets stay); the org document lists the active ones
      save: (rows) => api("PUT", "/api/v1/org", { people: [...rows, ...org.people.filter((p) => !rows.some((r) => r.id === p.id)).map((p) => ({ ...p, active: false }))] }) },
    catalog: { rows: flattenCatalog(org.catalog), remove: false, order: true, fields: [
      { key: "group", required: true }, { key: "name", required: true }, { key: "speciality" },
      { key: "priority", type: "select", options: PRIORITY_OPTIONS.map((p) => [p, p]) }, { key: "team", type: "select", options: teams },
      { key: "ask", size: 30, hint: "category_ask_hint" }, { key: "retired", type: "check" }],
      save: (rows) => api("PUT", "/api/v1/catalog", { items: catalogTree(rows) }) },
    "routing-rules": { rows: org.routing, layout: "cards", order: true, fields: [
      { key: "name", size: 16 }, { key: "active", type: "check", default: true }, { key: "stop", type: "check" },
      { key: "when.category", type: "list", size: 18 }, { key: "when.priority", type: "list" }, { key: "when.region", type: "list" },
      { key: "when.branch", type: "list" }, { key: "when.channel", type: "list", hint: "channels_hint" }, { key: "when.keywords", type: "list", size: 18 },
      { key: "when.hours", type: "select", options: [["in", T("hours_in")], ["out", T("hours_out")]] },
      { key: "then.team", type: "select", options: teams }, { key: "then.priority", type: "select", options: PRIORITY_OPTIONS.map((p) => [p, p]) },
      { key: "then.assignee", hint: "assignee_hint", size: 16 }, { key: "then.tags", type: "list" }, { key: "then.notify", type: "list" }],
      save: (rows) => api("PUT", "/api/v1/routing-rules", { items: rows }) },
    "sla-policies": { rows: org.sla, layout: "cards", order: true, fields: [
      { key: "name", size: 16 }, { key: "priority", type: "select", options: PRIORITY_OPTIONS.map((p) => [p, p]) },
      { key: "response", type: "number", hint: "minutes_hint" }, { key: "resolution", type: "number", hint: "minutes_hint" },
      { key: "warn_percent", type: "number" }, { key: "calendar", type: "select", options: [["7x24", "7×24"]], blank: "calendar_branch", blankValue: "branch" },
      { key: "on_hold", type: "select", options: [["run", T("on_hold_run")]], blank: "on_hold_pause", blankValue: "pause" },
      { key: "when.category", type: "list", size: 18 }, { key: "when.region", type: "list" }, { key: "when.branch", type: "list" },
      { key: "when.channel", type: "list" }, { key: "when.urgency", type: "list" }, { key: "when.keywords", type: "list", size: 18 }],
      save: (rows) => api("PUT", "/api/v1/sla-policies", { items: rows }) },
    replies: { rows: org.replies || [], order: true, fields: [
      { key: "name", required: true, size: 10 }, { key: "text", required: true, size: 48 }, { key: "team", type: "select", options: teams }],
      save: (rows) => api("PUT", "/api/v1/replies", { items: rows }) },
  };
  for (const name of section === "org" ? ["regions", "branches", "teams", "people"] : [section]) {
    const form = forms[name];
    const box = document.createElement("section");
    box.className = "card";
    box.dataset.form = name;
    box.innerHTML = `<h2>${esc(T("sec_" + name.replace("-", "_")))}</h2><div class="rows"></div>`
      + `<p><button type="button" data-save>${esc(T("save"))}</button> <span class="meta" data-status></span></p>`;
    $("#forms").appendChild(box);
    const list = new RecordList($(".rows", box), form);
    $("[data-save]", box).addEventListener("click", async () => {
      try {
        const saved = await form.save(list.collect());
        const warnings = (saved && saved.warnings) || [];  // saved, but probably not what was meant
        toast(warnings.length ? T("saved") + "，" + warnings.join("；") : T("saved"), warnings.length > 0);
        showAdmin(section);  // reload: what is shown is what was stored
      } catch (err) { showError(err); }
    });
  }
}

let showAdmin = () => {};

function pageAdmin() {
  const tabs = $$("#admin-tabs a");
  let current = null;
  const docPath = { org: "/api/v1/org", catalog: "/api/v1/catalog", "routing-rules": "/api/v1/routing-rules", "sla-policies": "/api/v1/sla-policies", replies: "/api/v1/replies" };
  const loadDoc = async () => {
    $("#doc-status").textContent = "";
    try {
      const data = await api("GET", docPath[current]);
      $("#doc").value = JSON.stringify(current === "org" ? data : data.items, null, 2);
    } catch (err) { showError(err); }
  };
  showAdmin = async (name) => {
    current = name;
    $("#error").textContent = "";
    tabs.forEach((a) => a.classList.toggle("on", a.dataset.tab === name));
    const isDoc = Boolean(docPath[name]);
    $("#doc-tools").hidden = !isDoc;
    $("#doc-editor").hidden = true;
    $("#forms").innerHTML = ""; $("#forms").hidden = false;
    $("#calendars").hidden = name !== "calendars";
    $("#webhooks").hidden = name !== "webhooks";
    $("#audit").hidden = name !== "audit";
    if (isDoc) {
      $("#doc-hint").textContent = T("hint_" + name.replace("-", "_"));
      try { await adminForms(name); } catch (err) { showError(err); }
    }
    if (name === "calendars") loadCalendars();
    if (name === "webhooks") loadHooks();
    if (name === "audit") loadAudit(true);
  };
  $("#doc-toggle").addEventListener("click", () => {
    const editor = $("#doc-editor");
    editor.hidden = !editor.hidden;
    $("#forms").hidden = !editor.hidden;
    if (!editor.hidden) loadDoc();
  });
  $("#doc-reload").addEventListener("click", loadDoc);
  $("#doc-save").addEventListener("click", async () => {
    let parsed;
    try { parsed = JSON.parse($("#doc").value); } catch (err) { return showError(T("bad_json") + ": " + err.message); }
    try {
      await api("PUT", docPath[current], current === "org" ? parsed : { items: parsed });
      $("#doc-status").textContent = T("saved"); toast(T("saved")); loadDoc();
    } catch (err) { showError(err); }
  });
  $("#audit-form").addEventListener("submit", (e) => { e.preventDefault(); loadAudit(true); });
  $("#audit-more").addEventListener("click", () => loadAudit(false));
  window.addEventListener("hashchange", () => showAdmin(location.hash.slice(1) || "org"));
  showAdmin(location.hash.slice(1) || "org");
}

// The audit trail (who changed what, every sign-in attempt), newest first, 100 at a time.
let auditBefore = null;
async function loadAudit(fresh) {
  if (fresh) { auditBefore = null; $("#audit-list tbody").innerHTML = ""; }
  const q = new URLSearchParams({ limit: "100" });
  const actor = $("#audit-form").elements.actor.value.trim();
  if (actor) q.set("actor", actor);
  if (auditBefore) q.set("before", auditBefore);
  try {
    const rows = await api("GET", "/api/v1/audit?" + q);
    $("#audit-list tbody").innerHTML += rows.map((e) => `<tr><td>${when(e.at)}</td><td>${esc(e.actor_name ? `${e.actor_name} (${e.actor})` : e.actor || "—")}</td>`
      + `<td>${esc(e.action)}</td><td>${esc(e.target || "")}</td><td>${esc(String(e.status ?? ""))}</td><td class="meta">${esc(e.client || "")}</td></tr>`).join("");
    if (rows.length) auditBefore = rows[rows.length - 1].id;
    $("#audit-more").hidden = rows.length < 100;
    if (fresh && !rows.length) $("#audit-list tbody").innerHTML = `<tr><td colspan="6" class="meta">${esc(T("nothing_found"))}</td></tr>`;
  } catch (err) { showError(err); }
}

async function loadCalendars() {
  try {
    const [teams, branches] = await Promise.all([api("GET", "/api/v1/teams"), api("GET", "/api/v1/branches")]);
    const row = (kind, x) => `<tr data-kind="${kind}" data-code="${esc(x.code)}"><td>${esc(T(kind))}</td><td>${esc(x.code)}</td><td>${esc(x.name)}</td>`
      + `<td><input value="${esc(x.hours || "")}" placeholder="${esc(T("inherited"))}" size="28"></td><td><button class="secondary">${esc(T("save"))}</button></td></tr>`;
    const list = (d) => d.items || d;
    $("#hours tbody").innerHTML = list(teams).map((t) => row("team", t)).join("") + list(branches).map((b) => row("branch", b)).join("");
    $$("#hours button").forEach((b) => b.addEventListener("click", async () => {
      const tr = b.closest("tr");
      try {
        await api("PUT", `/api/v1/${tr.dataset.kind === "team" ? "teams" : "branches"}/${encodeURIComponent(tr.dataset.code)}/hours`, { hours: $("input", tr).value });
        toast(T("saved"));
      } catch (err) { showError(err); }
    }));
    const year = $("#year");
    if (!year.options.length) {
      const y = new Date().getFullYear();
      year.innerHTML = [y - 1, y, y + 1].map((v) => `<option ${v === y ? "selected" : ""}>${v}</option>`).join("");
      year.addEventListener("change", loadCalendars);
    }
    const cal = await api("GET", "/api/v1/calendar?year=" + year.value);
    const days = Array.isArray(cal) ? cal : cal.items || [];
    // A year the holiday data does not cover yet: said, not an empty table that reads as "no holidays".
    const note = $("#holidays-note");
    note.hidden = days.some((d) => d.source !== "desk");
    note.textContent = T("holidays_unpublished").replace("{year}", year.value);
    const kind = (d) => d.source === "desk" && d.kind === "holiday" ? T("desk_closed") : T(d.kind);
    $("#holidays tbody").innerHTML = days.map((d) => `<tr><td>${esc(d.date)}</td><td>${esc(kind(d))}</td><td>${esc(d.holiday ? T("h_" + d.holiday) : d.name || "")}</td>`
      + `<td>${esc(d.region ? d.region_name || d.region : T("day_everywhere"))}</td>`
      + `<td class="meta">${esc(d.source === "desk" ? T("day_desk") + (d.by ? " · " + d.by : "") : T("day_statutory"))}</td>`
      + `<td>${d.source === "desk" ? `<button class="secondary danger" data-day="${esc(d.date)}" data-region="${esc(d.region || "")}">${esc(T("remove"))}</button>` : ""}</td></tr>`).join("")
      || `<tr><td colspan="6" class="meta">${esc(T("nothing_found"))}</td></tr>`;
    $$("#holidays [data-day]").forEach((b) => b.addEventListener("click", async () => {
      const region = b.dataset.region ? "?region=" + encodeURIComponent(b.dataset.region) : "";
      try { const r = await api("DELETE", "/api/v1/calendar/days/" + b.dataset.day + region); toast(T("days_moved").replace("{moved}", r.moved)); loadCalendars(); } catch (err) { showError(err); }
    }));
    const regionSelect = $("#day-form [name=region]");
    if (regionSelect.options.length === 1) {  // the regions, once: a closure of one region (a typhoon)
      const regions = await api("GET", "/api/v1/regions");
      regionSelect.insertAdjacentHTML("beforeend", regions.map((r) => `<option value="${esc(r.code)}">${esc(r.name)}</option>`).join(""));
    }
    onSubmitOnce($("#day-form"), async (form, d) => {
      const r = await api("POST", "/api/v1/calendar/days", { day: d.day, until: d.until || null, kind: d.kind, name: d.name, region: d.region || "" });
      toast(T("days_moved").replace("{moved}", r.moved));
      if (d.day.slice(0, 4) !== year.value && [...year.options].some((o) => o.value === d.day.slice(0, 4))) year.value = d.day.slice(0, 4);
      form.reset(); loadCalendars();
    });
  } catch (err) { showError(err); }
}

// A form of a tab that is loaded again and again: its submit bound once, the handler given the form and its values.
function onSubmitOnce(form, handler) {
  if (form.dataset.bound) return;
  form.dataset.bound = "1";
  form.addEventListener("submit", async (e) => {
    e.preventDefault();
    try { await handler(form, formData(form)); } catch (err) { showError(err); }
  });
}

async function loadHooks() {
  const form = $("#hook-form");
  const load = async () => {
    try {
      const hooks = await api("GET", "/api/v1/webhooks");
      $("#hooks tbody").innerHTML = (Array.isArray(hooks) ? hooks : hooks.items || []).map((h) => `<tr><td>${h.id}</td><td>${esc(h.name)}</td><td>${esc(h.url)}</td>`
        + `<td>${esc((h.events || []).join(", ") || "*")}</td><td>${esc(h.active ? T("active") : T("inactive"))}</td>`
        + `<td class="meta" data-last="${h.id}">…</td>`
        + `<td>${h.active ? `<button class="secondary" data-ping="${h.id}">ping</button> <button class="secondary danger" data-off="${h.id}">${esc(T("remove"))}</button>` : ""}</td></tr>`).join("");
      // The latest delivery of each: a ping is only queued, its outcome shows here (it used to say "done").
      $$("#hooks [data-last]").forEach(async (cell) => {
        try {
          const [last] = (await api("GET", `/api/v1/webhooks/${cell.dataset.last}/deliveries?limit=1`)).items;
          cell.textContent = !last ? "—" : `${last.event} · ${T("hook_" + last.status)}`
            + (last.delivered_at ? ` ${when(last.delivered_at)}` : "") + (last.last_error ? ` · ${last.last_error}` : "");
          cell.classList.toggle("warn", Boolean(last && last.status !== "delivered"));
        } catch (err) { cell.textContent = "?"; }
      });
      $$("#hooks [data-ping]").forEach((b) => b.addEventListener("click", async () => { try { await api("POST", `/api/v1/webhooks/${b.dataset.ping}/ping`); toast(T("hook_ping_queued")); setTimeout(load, 3000); } catch (err) { showError(err); } }));
      $$("#hooks [data-off]").forEach((b) => b.addEventListener("click", async () => { try { await api("DELETE", `/api/v1/webhooks/${b.dataset.off}`); load(); } catch (err) { showError(err); } }));
    } catch (err) { showError(err); }
  };
  onSubmitOnce(form, async (_, d) => {
    const made = await api("POST", "/api/v1/webhooks", { name: d.name, url: d.url, events: d.events.split(/[,，\s]+/).filter(Boolean) });
    $("#hook-secret").textContent = T("secret_once") + " " + made.secret;
    form.reset(); load();
  });
  load();
}
