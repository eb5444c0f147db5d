// 无忧服务台 on-call page: every team's paging order as it stands now (who is away passed over), the next
// hand-over, and leave — every absence not over, added, ended or called off here for oneself or, as a lead, for
// one's teams. Thin client of /api/v1/oncall/roster, /api/v1/away and /api/v1/people/{id}/absences.
"use strict";

// A datetime-local value is the browser's local time: sent with its offset (as UTC).
const withZone = (value) => deskIso(value);  // typed on the desk's clock, whatever the browser's zone

function pageOncall() {
  const form = $("#away-form");
  const load = async () => {
    try {
      const [teams, leave] = await Promise.all([api("GET", "/api/v1/oncall/roster"), api("GET", "/api/v1/away")]);
      const names = (people) => people.map((p) => esc(p.name)).join(" → ") || "—";
      $("#roster tbody").innerHTML = teams.map((t) => `<tr data-team="${esc(t.team)}"><td>${esc(t.name)}</td>`
        + `<td>${names(t.chain)}</td><td>${t.handover ? when(t.handover) : "—"}</td>`
        + `<td>${t.away.map((a) => `${esc(a.name)}（${esc(T("oncall_back_at"))} ${when(a.until)}）`).join("、") || "—"}</td></tr>`).join("");
      const mine = new Map();  // whom this viewer may mark away: themselves and, as a lead, their teams' members
      if (W.me) mine.set(W.me.id, W.me.name);
      teams.forEach((t) => t.members.forEach((m) => mine.set(m.id, m.name)));
      // One row per absence (someone with leave planned twice has two): the one in force ends (销假), one planned
      // is called off (取消).
      const now = Date.now();
      const button = (a) => (new Date(a.since) <= now
        ? `<button class="secondary" data-back="${esc(a.person)}" data-absence="${a.id}">${esc(T("oncall_back"))}</button>`
        : `<button class="secondary" data-cancel="${esc(a.person)}" data-absence="${a.id}">${esc(T("oncall_cancel"))}</button>`);
      $("#leave tbody").innerHTML = leave.map((a) => `<tr data-person="${esc(a.person)}" data-absence="${a.id}"><td>${esc(a.name)}</td>`
        + `<td>${a.since ? when(a.since) : "—"}</td><td>${when(a.until)}</td><td>${esc(a.note || "")}</td>`
        + `<td>${mine.has(a.person) ? button(a) : ""}</td></tr>`).join("");
      $(".empty").hidden = leave.length > 0;
      $$("#leave button[data-absence]").forEach((b) => b.addEventListener("click", async () => {
        const person = b.dataset.back || b.dataset.cancel;
        try { await api("DELETE", `/api/v1/people/${encodeURIComponent(person)}/absences/${b.dataset.absence}`); toast(T("done")); load(); } catch (err) { showError(err); }
      }));
      const select = form.person;
      const chosen = select.value;
      select.innerHTML = Array.from(mine).map(([id, name]) => `<option value="${esc(id)}">${esc(name)}</option>`).join("");
      if (chosen) select.value = chosen;
      form.hidden = mine.size === 0;
    } catch (err) { showError(err); }
  };
  form.addEventListener("submit", async (e) => {
    e.preventDefault();
    const d = formData(form);
    try {
      await api("POST", `/api/v1/people/${encodeURIComponent(d.person)}/absences`,  // (beside those planned)
        { since: withZone(d.since), until: withZone(d.until), note: d.note || "" });
      $("#error").textContent = "";
      toast(T("saved")); form.reset(); load();
    } catch (err) { showError(err); }
  });
  load();
  setInterval(load, 60000);
}
