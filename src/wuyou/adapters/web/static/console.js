// 无忧服务台 web console: each page is a thin client of /api/v1 (no build step, no framework).
"use strict";

const W = window.WUYOU || { strings: {}, locale: "zh-CN", me: null };
const T = (key) => W.strings[key] || key;
const $ = (sel, root = document) => root.querySelector(sel);
const $$ = (sel, root = document) => Array.from(root.querySelectorAll(sel));
const esc = (v) => String(v ?? "").replace(/[&<>"']/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" }[c]));

class ApiError extends Error {
  constructor(status, detail) { super(detail); this.status = status; }
}

async function api(method, path, body, headers = {}) {
  const init = { method, credentials: "same-origin", headers: { "X-Wuyou-Console": "1", Accept: "application/json", ...headers } };
  if (body !== undefined) { init.headers["Content-Type"] = "application/json"; init.body = JSON.stringify(body); }
  const response = await fetch(path, init);
  if (response.status === 401 && !path.startsWith("/api/v1/session")) {
    location.href = "/console/login?next=" + encodeURIComponent(location.pathname + location.search);
    throw new ApiError(401, T("signed_out"));
  }
  if (response.status === 204) return null;
  const text = await response.text();
  let data = null;
  try { data = text ? JSON.parse(text) : null; } catch (e) { data = { detail: text }; }
  if (!response.ok) {
    let detail = data && data.detail;
    if (Array.isArray(detail)) detail = detail.map((d) => (d.loc || []).slice(1).join(".") + ": " + d.msg).join("; ");
    throw new ApiError(response.status, detail || response.statusText);
  }
  if (method !== "GET") $$(".error").forEach((e) => { e.textContent = ""; });  // a change went through: the last error no longer stands
  return data;
}

function toast(text, bad = false) {
  const el = $("#toast");
  if (!el) return;
  el.textContent = text; el.className = bad ? "show bad" : "show";
  if (!bad) $$(".error").forEach((e) => { e.textContent = ""; });  // a success: the last error no longer stands
  clearTimeout(toast.timer); toast.timer = setTimeout(() => { el.className = ""; }, 4000);
}

function showError(err) {
  const el = $("#error");
  const text = err instanceof Error ? err.message : String(err);
  if (el) el.textContent = text;
  toast(text, true);
}

// Times are the desk's (Asia/Shanghai by default), whatever zone the browser is set to: shown on its clock, and a
// time typed into a form read on it.
const DESK_TZ = W.tz || "Asia/Shanghai";
const deskClock = new Intl.DateTimeFormat("en-GB", { timeZone: DESK_TZ, hourCycle: "h23", year: "numeric",
  month: "2-digit", day: "2-digit", hour: "2-digit", minute: "2-digit", second: "2-digit" });
const deskParts = (ms) => Object.fromEntries(deskClock.formatToParts(new Date(ms)).map((p) => [p.type, p.value]));

function when(iso) {
  if (!iso) return "—";
  const p = deskParts(new Date(iso).getTime());
  return `${p.month}-${p.day} ${p.hour}:${p.minute}`;
}

function offsetAt(ms) {  // how far the desk's clock is ahead of UTC at that moment
  const p = deskParts(ms);
  return Date.UTC(+p.year, +p.month - 1, +p.day, +p.hour, +p.minute, +p.second) - Math.floor(ms / 1000) * 1000;
}

function deskIso(local) {  // "2026-12-08T15:00" (a datetime-local input) read on the desk's clock, as ISO with zone
  if (!local) return null;
  const [day, time = "00:00"] = local.split("T");
  const [y, m, d] = day.split("-").map(Number);
  const [hh, mm] = time.split(":").map(Number);
  const wall = Date.UTC(y, m - 1, d, hh, mm);
  const guess = wall - offsetAt(wall);
  return new Date(wall - offsetAt(guess)).toISOString();
}

const nextDay = (day) => { const [y, m, d] = day.split("-").map(Number); return new Date(Date.UTC(y, m - 1, d + 1)).toISOString().slice(0, 10); };

function relative(iso) {
  if (!iso) return "";
  const minutes = Math.round((new Date(iso) - Date.now()) / 60000);
  if (Math.abs(minutes) < 90) return minutes >= 0 ? T("in_minutes").replace("{n}", minutes) : T("minutes_ago").replace("{n}", -minutes);
  const hours = Math.round(minutes / 60);
  return hours >= 0 ? T("in_hours").replace("{n}", hours) : T("hours_ago").replace("{n}", -hours);
}

const statusLabel = (s) => W.strings["status_" + s] || s;
const formData = (form) => Object.fromEntries(new FormData(form).entries());

// --- live updates: one EventSource on the ticket stream, reconnecting with Last-Event-ID by itself ---------

function liveTickets(onEvent) {
  const badge = $("#live");
  const source = new EventSource("/api/v1/tickets/events");
  source.addEventListener("ticket", (m) => onEvent(JSON.parse(m.data)));
  source.onopen = () => { if (badge) { badge.textContent = "● " + T("live_on"); badge.className = "meta live"; } };
  source.onerror = () => { if (badge) { badge.textContent = T("live_reconnecting"); badge.className = "meta"; } };
  return source;
}

function debounce(fn, ms) {
  let timer = null;
  return (...args) => { clearTimeout(timer); timer = setTimeout(() => fn(...args), ms); };
}

// --- sign-in ---------------------------------------------------------------------------------------------

function pageLogin() {
  const codeForm = $("#code-form"), pwForm = $("#password-form");
  const done = (form) => { location.href = form.dataset.next || "/console"; };
  let codeSent = false;
  codeForm.addEventListener("submit", async (e) => {
    e.preventDefault();
    $("#error").textContent = "";
    const person = $("#person").value.trim();
    try {
      if (!codeSent) {
        await api("POST", "/api/v1/session/code", { person });
        codeSent = true;
        $("#code-step").hidden = false; $("#code").required = true; $("#code").focus();
        $("#send-code").textContent = T("sign_in");
        toast(T("code_sent"));
      } else {
        await api("POST", "/api/v1/session/verify", { person, code: $("#code").value.trim() });
        done(codeForm);
      }
    } catch (err) { showError(err); }
  });
  pwForm.addEventListener("submit", async (e) => {
    e.preventDefault();
    try {
      await api("POST", "/api/v1/session", { person: $("#pw-person").value.trim(), password: $("#password").value });
      done(pwForm);
    } catch (err) { showError(err.status === 401 ? T("wrong_password") : err); }
  });
}

// --- queues ----------------------------------------------------------------------------------------------

function queueRow(t) {
  const due = t.response_due || t.resolution_due;
  const sla = t.breached ? `<span class="pill bad">${esc(T("breached"))}</span>`
    : due ? `<span class="pill ${new Date(due) - Date.now() < 3600e3 ? "warn" : ""}">${esc(relative(due))}</span>` : "";
  return `<tr data-ticket="${t.id}"><td><a href="/console/tickets/${t.id}">#${t.id}</a></td>`
    + `<td><span class="prio ${esc(t.priority)}">${esc(t.priority)}</span> ${esc(t.title)}`
    + (t.tags || []).map((tag) => ` <span class="tag">${esc(tag)}</span>`).join("")
    + `<div class="meta">${esc(t.branch || "")} · ${esc(t.category || T("category_none"))}</div></td>`
    + `<td>${esc(statusLabel(t.status))}<div class="meta">${esc(t.assignee || T("unassigned"))}</div></td><td>${sla}</td></tr>`;
}

async function pageQueues() {
  const load = async () => {
    try {
      const data = await api("GET", "/api/v1/queues?limit=30");
      for (const name of ["mine", "team", "unclaimed", "breaching"]) {
        const box = $(`#queue-${name}`), q = data[name];
        $(".count", box).textContent = q.total;
        $("tbody", box).innerHTML = q.items.map(queueRow).join("");
        $(".empty", box).hidden = q.items.length > 0;
      }
    } catch (err) { showError(err); }
  };
  await load();
  liveTickets(debounce(load, 300));
  setInterval(load, 60000); // SLA countdowns move even when nothing happens
}

// --- ticket list -----------------------------------------------------------------------------------------

function pageTickets() {
  const form = $("#ticket-filter");
  const params = new URLSearchParams(location.search);
  for (const [k, v] of params) if (form.elements[k]) form.elements[k].value = v;
  let offset = Number(params.get("offset") || 0);
  const limit = 50;
  const load = async () => {
    const query = new URLSearchParams();
    for (const [k, v] of Object.entries(formData(form))) {  // a day is the desk's day; "to" includes its last day
      if (v) query.set(k, k === "created_after" ? v + "T00:00:00" : k === "created_before" ? nextDay(v) + "T00:00:00" : v);
    }
    $("#csv-tickets").href = "/api/v1/tickets.csv?" + query;  // the same filters, every page
    query.set("limit", limit); query.set("offset", offset);
    try {
      const data = await api("GET", "/api/v1/tickets?" + query);
      $("#ticket-list tbody").innerHTML = data.items.map((t) => `<tr><td><a href="/console/tickets/${t.id}">#${t.id}</a></td>`
        + `<td>${esc(t.title)}</td><td><span class="prio ${esc(t.priority)}">${esc(t.priority)}</span></td><td>${esc(statusLabel(t.status))}</td>`
        + `<td>${esc(t.branch_name || t.branch || "")}</td><td>${esc(t.team_name || t.team || "")}</td><td>${esc(t.assignee_name || t.assignee || "—")}</td><td>${when(t.created_at)}</td></tr>`).join("");
      $("#page-info").textContent = data.total ? `${offset + 1}–${offset + data.items.length} / ${data.total}` : T("nothing_found");
      $("#prev").disabled = offset === 0; $("#next").disabled = offset + limit >= data.total;
    } catch (err) { showError(err); }
  };
  form.addEventListener("submit", (e) => { e.preventDefault(); offset = 0; load(); });
  $("#prev").addEventListener("click", () => { offset = Math.max(0, offset - limit); load(); });
  $("#next").addEventListener("click", () => { offset += limit; load(); });
  load();
}

// --- one ticket ------------------------------------------------------------------------------------------

// The tickets this one is linked with (parent and children, merged, followed up), as links.
function related(t) {
  const links = (ids) => [].concat(ids).filter((n) => n).map((n) => `<a href="/console/tickets/${Number(n)}">#${Number(n)}</a>`);
  const parts = [["parent", t.parent], ["children", t.children], ["merged_into", t.merged_into], ["follows", t.follows],
    ["followed_by", t.followed_by]].filter(([, ids]) => links(ids || []).length)
    .map(([key, ids]) => `${esc(T("related_" + key))} ${links(ids).join(" ")}`);
  return parts.length ? `<br>${parts.join(" · ")}` : "";
}

// Where the branch is and whom to call (what the org file gives), for an engineer going on site.
function contact(t) {
  const parts = [t.branch_address ? `📍 ${esc(t.branch_address)}` : "",
    t.branch_phone ? `☎ ${esc(T("branch_phone"))} ${esc(t.branch_phone)}` : "",
    t.reporter_phone ? `☎ ${esc(t.reporter_name || t.reporter)} ${esc(t.reporter_phone)}` : ""].filter(Boolean);
  return parts.length ? `<br>${parts.join(" · ")}` : "";
}

// Only the actions the ticket's state allows (the others would answer 409): nothing to claim on a closed ticket,
// nothing to resume when it is not on hold.
function offerActions(t) {
  const open = !["resolved", "closed", "cancelled", "merged"].includes(t.status);
  const mine = W.me && t.assignee === W.me.id;
  const taken = ["claimed", "in_progress", "reopened", "waiting", "on_hold"].includes(t.status);  // (asking, holding)
  const allowed = {
    claim: open && !mine, release: open && !!t.assignee, resume: t.status === "on_hold",
    reply: open, ask: taken, hold: taken, transfer: open, priority: open, category: true, merge: open, resolve: open,
    notes: true, confirm: t.status === "resolved", reopen: ["resolved", "closed"].includes(t.status), chase: open,
    info: open,
  };
  $$("#actions [data-act]").forEach((el) => { el.hidden = allowed[el.dataset.act] === false; });
}

async function pageTicket() {
  const id = Number($("#ticket").dataset.id);
  const render = (t) => {
    $("#t-title").textContent = `#${t.id} ${t.title}`;
    $("#t-facts").innerHTML = [
      `<span class="prio ${esc(t.priority)}">${esc(t.priority)}</span>`, esc(statusLabel(t.status)), esc(t.category || T("category_none")),
      esc(t.branch_name || t.branch || "—"), `${esc(T("reporter"))} ${esc(t.reporter_name || t.reporter)}`,
      `${esc(T("team"))} ${esc(t.team_name || t.team || "—")}`,
      `${esc(T("assignee"))} ${esc(t.assignee_name || t.assignee || T("unassigned"))}`, when(t.created_at),
      ...(t.tags || []).map((tag) => `<span class="tag">${esc(tag)}</span>`),
    ].join(" · ") + (t.hold_until ? `<br>${esc(T("on_hold_until"))} ${when(t.hold_until)}: ${esc(t.hold_reason || "")}` : "")
      + (t.response_due || t.resolution_due  // (the running clocks: what the ticket is due by)
        ? `<br>${[["f_response", t.response_due], ["f_resolution", t.resolution_due]].filter(([, due]) => due)
          .map(([key, due]) => `${esc(T(key))} ${when(due)}`).join(" · ")}` : "")
      // (reopened: it is what was done last time, not how it ended)
      + (t.resolution ? `<br>${esc(T(["resolved", "closed"].includes(t.status) ? "resolution" : "last_resolution"))}: ${esc(t.resolution)}` : "")
      + (t.rating ? ` · ${"★".repeat(t.rating)}` : "") + related(t) + contact(t);
    $("#t-description").textContent = t.description;
    const slaText = (e) => (e.data && e.data.clock ? T("sla_" + e.data.clock) : "");
    $("#t-timeline").innerHTML = t.timeline.map((e) => `<li class="${e.public === false ? "internal" : ""}">`
      + `<time>${when(e.at)}</time> <b>${esc(W.strings["event_" + e.kind] || e.kind)}</b> ${esc(slaText(e))}`
      + ` <span class="meta">${esc(e.actor_name || e.actor || "")}</span>`
      + (e.kind === "held" && e.data && e.data.until ? ` → ${when(e.data.until)}` : "")
      + (e.body && !e.kind.startsWith("sla_") ? `<div>${esc(e.body)}</div>` : "") + "</li>").join("");
    offerActions(t);
  };
  // Answers are shown in the order their requests were made: a page load's answer that comes back after an action's
  // (made later) would show the ticket as it was before the action.
  let asked = 0, shown = 0;
  const fresh = async (request) => {
    const seq = ++asked;
    const t = await request;
    if (seq > shown) { shown = seq; render(t); }
  };
  const load = async () => { try { await fresh(api("GET", `/api/v1/tickets/${id}`)); } catch (err) { showError(err); } };
  const act = async (name, body) => {
    $("#error").textContent = "";
    try {
      await fresh(api("POST", `/api/v1/tickets/${id}/${name}`, body));
      toast(T("done"));
      return true;
    } catch (err) { showError(err); return false; }
  };
  $$("#actions button[data-act]").forEach((b) => b.addEventListener("click", () => act(b.dataset.act, {})));
  $$("#actions form[data-act]").forEach((f) => f.addEventListener("submit", async (e) => {
    e.preventDefault();
    const body = formData(f);
    if (body.into) body.into = Number(body.into);
    if ("until" in body) { if (body.until) body.until = deskIso(body.until); else delete body.until; }
    if (await act(f.dataset.act, body) && !["category", "priority"].includes(f.dataset.act)) f.reset();
  }));
  const picker = $("#insert-reply");
  if (picker) {  // staff: the canned replies they may use, put into the reply box to be edited and sent
    try {
      const replies = (await api("GET", "/api/v1/replies")).items;
      picker.innerHTML += replies.map((r) => `<option value="${esc(r.text)}">${esc(r.name)}</option>`).join("");
      picker.hidden = replies.length === 0;
      picker.addEventListener("change", () => {
        const box = $("#actions form[data-act=reply] textarea");
        box.value = (box.value ? box.value + "\n" : "") + picker.value;
        picker.value = "";
        box.focus();
      });
    } catch (err) { showError(err); }
  }
  liveTickets((e) => { if (e.ticket === id) load(); });  // (before the first load: no change falls between)
  await load();
}

// --- incidents -------------------------------------------------------------------------------------------

function pageIncidents() {
  const load = async () => {
    const open = $("#only-open").checked ? "&status=active&status=mitigated" : "";
    try {
      const data = await api("GET", "/api/v1/incidents?limit=100" + open);
      $("#incident-list tbody").innerHTML = data.items.map((i) => `<tr><td><a href="/incidents/${esc(i.id)}">${esc(i.id)}</a></td>`
        + `<td>${esc(i.title)}</td><td><span class="sev ${esc(i.severity)}">${esc(i.severity)}</span></td><td>${esc(W.strings["inc_" + i.status] || i.status)}</td>`
        + `<td>${esc(W.strings["inc_source_" + i.source] || i.source)}</td><td>${when(i.declared_at)}</td><td><a href="/incidents/${esc(i.id)}/report">${esc(T("report"))}</a></td></tr>`).join("");
      $(".empty").hidden = data.items.length > 0;
    } catch (err) { showError(err); }
  };
  $("#only-open").addEventListener("change", load);
  const form = $("#declare");
  if (form) form.addEventListener("submit", async (e) => {
    e.preventDefault();
    const body = formData(form);
    body.specialities = new FormData(form).getAll("specialities");  // the on-call paged besides the tickets' own
    body.tickets = (body.tickets || "").split(/[#,，\s]+/).filter(Boolean).map(Number);  // linked, their reporters told
    try {
      const inc = await api("POST", "/api/v1/incidents", body);
      location.href = "/incidents/" + inc.id;
    } catch (err) { showError(err); }
  });
  load();
  setInterval(load, 15000);
}

// --- knowledge base --------------------------------------------------------------------------------------

function pageKb() {
  if ($("#kb-editor")) return pageKbEditor();
  const form = $("#kb-filter");
  const load = async () => {
    const q = new URLSearchParams(Object.entries(formData(form)).filter(([, v]) => v));
    q.set("limit", 200);
    try {
      const data = await api("GET", "/api/v1/kb/articles?" + q);
      $("#kb-list tbody").innerHTML = data.items.map((a) => `<tr><td><a href="/console/kb/${encodeURIComponent(a.id)}">${esc(a.id)}</a></td>`
        + `<td>${esc(a.title)}</td><td>${esc(a.category)}</td><td>${esc(T(a.status))}</td>`
        + `<td class="meta">${a.usage ? `${a.usage.offered} / ${a.usage.solved} / ${a.usage.rejected}` : ""}</td></tr>`).join("")
        || `<tr><td colspan="5" class="meta">${esc(T("nothing_found"))}</td></tr>`;  // not a bare header
    } catch (err) { showError(err); }
  };
  form.addEventListener("submit", (e) => { e.preventDefault(); load(); });
  $("#suggest-form").addEventListener("submit", async (e) => {
    e.preventDefault();
    try {
      const data = await api("POST", "/api/v1/kb/suggest", { text: $("#suggest-text").value });
      $("#suggestions").innerHTML = data.suggestions.map((s) => `<li><a href="/console/kb/${encodeURIComponent(s.id)}">${esc(s.title)}</a> <span class="meta">${esc(s.id)} · ${Number(s.score).toFixed(2)}</span></li>`).join("");
      $("#no-suggestion").hidden = data.suggestions.length > 0;
    } catch (err) { showError(err); }
  });
  load();
}

async function pageKbEditor() {
  const form = $("#kb-editor");
  const isNew = form.dataset.id === "new";
  const preview = async () => {
    try { $("#preview").innerHTML = (await api("POST", "/api/v1/kb/preview", { body: form.elements.body.value })).html; }
    catch (err) { showError(err); }
  };
  if (!isNew) {
    try {
      const a = await api("GET", `/api/v1/kb/articles/${encodeURIComponent(form.dataset.id)}`);
      form.elements.title.value = a.title; form.elements.category.value = a.category || "";
      form.elements.tags.value = (a.tags || []).join(", "); form.elements.body.value = a.body;
      if (a.status === "published") form.elements.status.querySelector("[value=published]").disabled = false;  // a correction stays published
      // (and only a lead, who has the archive button, takes it back out of the bot's answers)
      if (a.status === "published" && !$("#archive")) form.elements.status.querySelector("[value=draft]").disabled = true;
      // (an archived one opens as a draft: saving a correction does not put it back in the bot's answers unasked)
      form.elements.status.value = a.status === "published" ? "published" : "draft";
      $("#kb-heading").textContent = `${a.id} · ${a.title}` + (a.status === "archived" ? ` · ${T("archived")}` : "");
      $("#phrasings").innerHTML = (a.phrasings || []).map((p) => `<li>${esc(p)}</li>`).join("");
    } catch (err) { showError(err); }
  }
  preview();
  $("#preview-btn").addEventListener("click", preview);
  form.elements.body.addEventListener("input", debounce(preview, 600));
  form.addEventListener("submit", async (e) => {
    e.preventDefault();
    const d = formData(form);
    const body = { title: d.title, category: d.category, tags: d.tags.split(/[,，]/).map((x) => x.trim()).filter(Boolean), body: d.body, status: d.status };
    try {
      const saved = await api("PUT", `/api/v1/kb/articles/${encodeURIComponent(d.id)}`, body,
                isNew ? { "If-None-Match": "*" } : {});  // a new article never replaces one of the same id
      const warnings = (saved && saved.warnings) || [];  // saved, but probably not what was meant
      toast(warnings.length ? T("saved") + "，" + warnings.join("；") : T("saved"), warnings.length > 0);
      if (isNew) location.href = "/console/kb/" + encodeURIComponent(d.id);
    } catch (err) { showError(err); }
  });
  $("#archive")?.addEventListener("click", async () => {
    if (isNew || !confirm(T("archive_confirm"))) return;
    try { await api("DELETE", `/api/v1/kb/articles/${encodeURIComponent(form.dataset.id)}`); location.href = "/console/kb"; }
    catch (err) { showError(err); }
  });
}

// --- charts: small SVG drawings, no library --------------------------------------------------------------

const COLORS = ["#2f6fde", "#1a9e6b", "#e0832c", "#c0392b", "#7d5bbe", "#17a2b8"];

function lineChart(el, labels, series) {
  const w = 640, h = 220, left = 40, bottom = 24, top = 10;
  const max = Math.max(1, ...series.flatMap((s) => s.values));
  const x = (i) => left + (labels.length <= 1 ? 0 : (i * (w - left - 10)) / (labels.length - 1));
  const y = (v) => top + (h - top - bottom) * (1 - v / max);
  const ticks = [0, 0.5, 1].map((f) => Math.round(max * f));
  let svg = `<svg viewBox="0 0 ${w} ${h}" role="img" class="svg-chart">`;
  svg += ticks.map((t) => `<line x1="${left}" x2="${w - 10}" y1="${y(t)}" y2="${y(t)}" class="grid"/><text x="${left - 6}" y="${y(t) + 4}" text-anchor="end">${t}</text>`).join("");
  const every = Math.max(1, Math.ceil(labels.length / 8));
  svg += labels.map((l, i) => (i % every ? "" : `<text x="${x(i)}" y="${h - 6}" text-anchor="middle">${esc(l.slice(5))}</text>`)).join("");
  series.forEach((s, k) => {
    const pts = s.values.map((v, i) => `${x(i)},${y(v)}`).join(" ");
    svg += `<polyline points="${pts}" fill="none" stroke="${COLORS[k % COLORS.length]}" stroke-width="2"/>`;
    svg += s.values.map((v, i) => `<circle cx="${x(i)}" cy="${y(v)}" r="2.5" fill="${COLORS[k % COLORS.length]}"><title>${esc(labels[i])}: ${v}</title></circle>`).join("");
  });
  svg += "</svg>";
  const legend = series.map((s, k) => `<span><i style="background:${COLORS[k % COLORS.length]}"></i>${esc(s.name)}</span>`).join("");
  el.innerHTML = svg + `<div class="legend">${legend}</div>`;
}

function barChart(el, labels, values, format = (v) => v) {
  const rowH = 22, w = 640, left = 150;
  const max = Math.max(1e-9, ...values.map((v) => v || 0));
  const h = rowH * labels.length + 4;
  let svg = `<svg viewBox="0 0 ${w} ${h}" width="${w}" height="${h}" role="img" class="svg-chart bars">`;
  labels.forEach((l, i) => {
    const bw = ((values[i] || 0) / max) * (w - left - 70);
    svg += `<text x="${left - 6}" y="${i * rowH + 15}" text-anchor="end">${esc(l.length > 18 ? l.slice(0, 17) + "…" : l)}</text>`
      + `<rect x="${left}" y="${i * rowH + 4}" width="${Math.max(bw, 1)}" height="${rowH - 8}" rx="3" fill="${COLORS[0]}"/>`
      + `<text x="${left + bw + 6}" y="${i * rowH + 15}">${esc(format(values[i]))}</text>`;
  });
  el.innerHTML = svg + "</svg>";
}

// --- reports ---------------------------------------------------------------------------------------------

const pct = (v) => (v === null || v === undefined ? "—" : (v * 100).toFixed(1) + "%");
const dur = (seconds) => {
  if (seconds === null || seconds === undefined) return "—";
  if (seconds < 60) return `< 1 ${T("min")}`;  // (13 seconds read "0 分钟")
  const m = Math.round(seconds / 60);
  return m < 120 ? `${m} ${T("min")}` : `${(m / 60).toFixed(1)} ${T("hour")}`;
};

async function pageReports() {
  // The range defaults to the desk's last 30 days, in the desk's time zone (the server decides: the browser's
  // clock may sit in another zone); the inputs then show what was used.
  const form = $("#report-filter");
  const params = new URLSearchParams(location.search);
  if (params.get("from")) $("#r-from").value = params.get("from");
  if (params.get("to")) $("#r-to").value = params.get("to");
  if (params.get("by")) $("#r-by").value = params.get("by");
  const load = async () => {
    const q = new URLSearchParams();
    if ($("#r-from").value) q.set("from", $("#r-from").value);
    if ($("#r-to").value) q.set("to", $("#r-to").value);
    const by = $("#r-by").value;
    $("#by-name").textContent = T("dim_" + by);
    try {
      const summary = await api("GET", "/api/v1/reports/summary?" + q);
      $("#r-from").value = summary.start; $("#r-to").value = summary.end;
      q.set("from", summary.start); q.set("to", summary.end);
      $("#csv-breakdown").href = `/api/v1/reports/breakdown.csv?${q}&by=${by}`;
      $("#csv-trend").href = `/api/v1/reports/trend.csv?${q}`;
      history.replaceState(null, "", `?${q}&by=${by}`);
      $("#csv-oncall").href = `/api/v1/reports/oncall.csv?${q}`;
      const [trend, breakdown, oncall] = await Promise.all([
        api("GET", "/api/v1/reports/trend?" + q), api("GET", `/api/v1/reports/breakdown?${q}&by=${by}`),
        api("GET", "/api/v1/reports/oncall?" + q)]);
      renderSummary(summary); renderTrend(trend); renderBreakdown(breakdown); renderOncall(oncall);
    } catch (err) {
      // (a range refused: the figures of the range before are not left on screen as if they were this one's)
      ["#tiles", "#trend-chart", "#backlog-chart", "#breakdown tbody", "#breakdown-chart", "#oncall tbody"].forEach((sel) => { const el = $(sel); if (el) el.innerHTML = ""; });
      showError(err);
    }
  };
  form.addEventListener("submit", (e) => { e.preventDefault(); load(); });
  load();
}

function metrics(m) {
  return [
    ["created", m.created], ["resolved", m.resolved], ["backlog_now", m.backlog],
    ["first_response_median", dur(m.first_response_median)], ["resolution_median", dur(m.resolution_median)],
    ["sla_response", pct(m.sla_response_met)], ["sla_resolution", pct(m.sla_resolution_met)],
    ["reopen_rate", pct(m.reopen_rate)], ["first_contact_rate", pct(m.first_contact_rate)],
    ["deflection_rate", pct(m.deflection_rate)],
    ["csat", m.csat_average === null || m.csat_average === undefined ? "—" : `${Number(m.csat_average).toFixed(2)} / 5 (${m.csat_count})`
      + (m.csat_low ? ` · ${T("low_ratings")} ${m.csat_low}` : "")],
  ];
}

function renderSummary(data) {
  const m = data.metrics || data;
  $("#tiles").innerHTML = metrics(m).map(([k, v]) => `<div class="tile"><div class="meta">${esc(T("m_" + k))}</div><b>${esc(v ?? "—")}</b></div>`).join("");
}

function renderTrend(data) {
  const rows = data.items || data.buckets || [];
  const labels = rows.map((r) => r.start || r.date || r.bucket);
  lineChart($("#trend-chart"), labels, [
    { name: T("m_created"), values: rows.map((r) => r.created || 0) },
    { name: T("m_resolved"), values: rows.map((r) => r.resolved || 0) }]);
  lineChart($("#backlog-chart"), labels, [{ name: T("m_backlog_now"), values: rows.map((r) => r.backlog || 0) }]);
}

function renderBreakdown(data) {
  const rows = data.items || data.rows || [];
  const by = data.by || $("#r-by").value;
  // (KB deflection where suggestion sessions have the dimension: a region, a branch, a channel)
  const cols = ["created", "resolved", "first_response_median", "resolution_median", "sla_resolution_met", "reopen_rate", "first_contact_rate",
    ...(["region", "branch", "channel"].includes(by) ? ["deflection_rate"] : []), "csat_average"];
  // (the times are medians, as in the tiles: the breakdown's were averages, headed 平均)
  $("#breakdown thead").innerHTML = `<tr><th>${esc(T("dim_" + by))}</th>` + cols.map((c) => `<th>${esc(T("m_" + c))}</th>`).join("") + "</tr>";
  const show = (c, v) => (c.endsWith("_median") ? dur(v) : c.endsWith("_met") || c.endsWith("_rate") ? pct(v) : c === "csat_average" ? (v == null ? "—" : Number(v).toFixed(2)) : v ?? "—");
  $("#breakdown tbody").innerHTML = rows.map((r) => {
    const m = r.metrics || r;
    return `<tr><td>${esc(r.label || r.key || "—")}</td>` + cols.map((c) => `<td>${esc(show(c, m[c]))}</td>`).join("") + "</tr>";
  }).join("");
  barChart($("#breakdown-chart"), rows.slice(0, 15).map((r) => r.label || r.key || "—"), rows.slice(0, 15).map((r) => (r.metrics || r).created || 0));
}

// Seconds to acknowledge a page: minutes and seconds (they are short).
const ackTime = (seconds) => (seconds === null || seconds === undefined ? "—"
  : `${Math.floor(seconds / 60)}:${String(Math.floor(seconds % 60)).padStart(2, "0")}`);

function renderOncall(data) {
  $("#oncall tbody").innerHTML = (data.items || []).map((r) => `<tr${r.missed ? ' class="warn"' : ""}><td>${esc(r.name)}</td><td>${esc(r.team_name)}</td>`
    + [r.pages, r.acked, r.missed, r.incidents, ackTime(r.ack_median), ackTime(r.ack_p90), r.relieved].map((v) => `<td>${esc(v)}</td>`).join("") + "</tr>").join("")
    || `<tr><td colspan="8" class="meta">${esc(T("o_none"))}</td></tr>`;
}

// --- every page ------------------------------------------------------------------------------------------

document.addEventListener("DOMContentLoaded", () => {
  const out = $("#sign-out");
  if (out) out.addEventListener("click", async () => { await api("DELETE", "/api/v1/session"); location.href = "/console/login"; });
  const pages = { login: pageLogin, queues: pageQueues, tickets: $("#ticket") ? pageTicket : pageTickets, incidents: pageIncidents, kb: pageKb, reports: pageReports, admin: window.pageAdmin, notices: window.pageNotices, oncall: window.pageOncall, tokens: window.pageTokens };
  const run = pages[document.body.dataset.page];
  if (run) run();
});
