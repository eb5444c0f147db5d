// 无忧服务台 notices: compose (preview the reach, then send now or at a time), the list, and one notice's
// acknowledgements branch by branch. Thin client of /api/v1/notices.
"use strict";

const words = (v) => String(v || "").split(/[,，、\s]+/).filter(Boolean);
const localIso = (v) => (v ? v + ":00" : null); // datetime-local has no seconds and no offset: the desk's time

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
  form.kind.addEventListener("change", () => { $("fieldset.window", form).hidden = form.kind.value !== "maintenance"; });
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

function pageNoticeDetail() {
  const id = $("#notice").dataset.id;
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
      const open = n.status === "scheduled" || (n.window && new Date(n.window.ends_at) > new Date());
      $("#cancel").hidden = !open;
    } catch (err) { showError(err); }
  };
  $("#cancel").addEventListener("click", async () => {
    try { await api("POST", `/api/v1/notices/${id}/cancel`); load(); } catch (err) { showError(err); }
  });
  load();
  setInterval(load, 15000);
}

function pageNotices() {
  if ($("#notice")) pageNoticeDetail(); else pageNoticeList();
}
