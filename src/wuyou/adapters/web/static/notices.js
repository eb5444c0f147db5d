// 无忧服务台 notices: compose (preview the reach, then send now or at a time), the list, and one notice's
// acknowledgements branch by branch, with its edit form (a scheduled notice; a sent one's maintenance window).
// Thin client of /api/v1/notices.
"use strict";

const words = (v) => String(v || "").split(/[,，、\s]+/).filter(Boolean);
const localIso = (v) => (v ? v + ":00" : null); // datetime-local has no seconds and no offset: the desk's time
const localInput = (iso) => { // an ISO moment as a datetime-local input's value, on the desk's clock
  if (!iso) return "";
  const p = deskParts(new Date(iso).getTime());
  return `${p.year}-${p.month}-${p.day}T${p.hour}:${p.minute}`;
};
const windowShown = (form) => { $("fieldset.window", form).hidden = form.kind.value !== "maintenance"; };

function noticeBody(form) {
  const f = formData(form);
  const body = { kind: f.kind, body: f.body, important: !!f.important, send_at: localIso(f.send_at),
    audience: { regions: words(f.regions), branches: words(f.branches), categories: words(f.categories) } };
  // A maintenance notice's window needs its system's name: without it the window was dropped without a word.
  if (f.kind === "maintenance" && !f.system && (f.starts_at || f.ends_at)) throw new Error(T("notice_window_needs_system"));
  if (f.kind === "maintenance" && f.system) {
    body.window = { system: f.system, aliases: words(f.aliases), starts_at: localIso(f.starts_at), ends_at: localIso(f.ends_at) };
  }
  return body;
}

function pageNoticeList() {
  const form = $("#compose");
  const load = async () => {
    try {
      const items = await api("GET", "/api/v1/notices?limit=100");
      $("#notice-list tbody").innerHTML = items.map((n) => `<tr><td><a href="/console/notices/${n.id}">${n.id}</a></td>`
        + `<td>${esc(T("notice_kind_" + n.kind))}</td><td><a href="/console/notices/${n.id}">${esc(n.title)}</a></td>`
        + `<td>${esc(T("notice_status_" + n.status))}</td><td>${when(n.sent_at || n.send_at)}</td>`
        + `<td>${n.people}</td><td>${n.acknowledged} / ${n.people}</td></tr>`).join("");
      $(".empty").hidden = items.length > 0;
    } catch (err) { showError(err); }
  };
  form.kind.addEventListener("change", () => windowShown(form));
  windowShown(form);  // (a kind chosen before this script ran: its window's fields were left hidden)
  form.addEventListener("input", () => { $("#send").disabled = true; $("#reach").textContent = ""; });
  $("#preview").addEventListener("click", async () => {
    try {
      const r = await api("POST", "/api/v1/notices/preview", noticeBody(form));
      const platforms = Object.entries(r.platforms).map(([p, n]) => `${p} ${n}`).join("、");
      $("#reach").textContent = T("notice_reach_text").replace("{branches}", r.branches).replace("{people}", r.people)
        .replace("{platforms}", platforms);
      $("#send").disabled = r.people === 0;
      $("#error").textContent = "";
    } catch (err) { showError(err); }
  });
  form.addEventListener("submit", async (e) => {
    e.preventDefault();
    try {
      const n = await api("POST", "/api/v1/notices", noticeBody(form));
      location.href = "/console/notices/" + n.id;
    } catch (err) { showError(err); }
  });
  load();
}

function fillNoticeForm(form, n, sent, started) {
  const a = n.audience || {};
  const values = { kind: n.kind, body: n.body, regions: (a.regions || []).join(", "), branches: (a.branches || []).join(", "),
    categories: (a.categories || []).join(", "), send_at: localInput(n.send_at), system: n.window ? n.window.system : "",
    aliases: n.window ? n.window.aliases.join(", ") : "", starts_at: localInput(n.window && n.window.starts_at),
    ends_at: localInput(n.window && n.window.ends_at) };
  for (const [name, value] of Object.entries(values)) form.elements[name].value = value;
  form.important.checked = n.important;
  // A sent notice is what the branches read: only its window's times move (its start until it starts).
  for (const el of form.elements) {
    if (el.name) el.disabled = sent && !(el.name === "ends_at" || (el.name === "starts_at" && !started));
  }
  windowShown(form);
}

function pageNoticeDetail() {
  const id = $("#notice").dataset.id;
  const form = $("#edit");
  let shown = null; // the notice as the edit form was filled with it (not refilled under the lead's typing)
  const load = async () => {
    try {
      const n = await api("GET", "/api/v1/notices/" + id);
      $("#notice-title").textContent = `#${n.id} ${n.title}`;
      $("#notice-meta").textContent = `${T("notice_kind_" + n.kind)}${n.important ? " · " + T("notice_important_label") : ""}`
        + ` · ${T("notice_status_" + n.status)} · ${when(n.sent_at || n.send_at)} · ${esc(n.author_name || n.author)}`;
      $("#notice-body").textContent = n.body;
      $("#notice-window").textContent = n.window ? `${n.window.system}: ${when(n.window.starts_at)} – ${when(n.window.ends_at)}` : "";
      $("#acked-people").textContent = T("notice_people_acked").replace("{acked}", n.acknowledged).replace("{people}", n.people);
      $("#acked-branches").textContent = T("notice_branches_acked").replace("{acked}", n.branches_acknowledged).replace("{branches}", n.branches);
      $("#branch-acks tbody").innerHTML = n.by_branch.map((b) => `<tr class="${b.acknowledged ? "" : "silent"}">`
        + `<td>${esc(b.code)} ${esc(b.name)}</td><td>${b.people}</td><td>${b.acknowledged}</td><td>${when(b.first_acknowledged_at)}</td></tr>`).join("");
      const now = new Date();
      const windowOpen = n.window && new Date(n.window.ends_at) > now && n.window.ends_at !== n.window.starts_at;
      const open = n.status === "scheduled" || (n.status === "sent" && windowOpen);
      $("#cancel").hidden = !open || !n.may_change;
      $("#edit-box").hidden = !open || !n.may_change;
      if (open && n.may_change && (!shown || shown.status !== n.status)) {
        const sent = n.status === "sent";
        fillNoticeForm(form, n, sent, sent && new Date(n.window.starts_at) <= now);
        $("#edit-summary").textContent = T(sent ? "notice_edit_window" : "notice_edit");
        shown = n;
      }
    } catch (err) { showError(err); }
  };
  form.kind.addEventListener("change", () => windowShown(form));
  form.addEventListener("submit", async (e) => {
    e.preventDefault();
    try {
      let body;
      if (shown.status === "sent") {
        const f = formData(form);
        body = { window: { ends_at: localIso(f.ends_at) } };
        if (f.starts_at) body.window.starts_at = localIso(f.starts_at);
      } else {
        body = noticeBody(form);
        if (!body.window) body.window = null; // (no longer a maintenance notice: its window goes)
      }
      await api("PATCH", "/api/v1/notices/" + id, body);
      toast(T("saved"));
      shown = null;
      load();
    } catch (err) { showError(err); }
  });
  $("#cancel").addEventListener("click", async () => {
    try { await api("POST", `/api/v1/notices/${id}/cancel`); shown = null; load(); } catch (err) { showError(err); }
  });
  load();
  setInterval(load, 15000);
}

function pageNotices() {
  if ($("#notice")) pageNoticeDetail(); else pageNoticeList();
}
