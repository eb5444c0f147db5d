// 无忧服务台 API tokens page: the signed-in staff member's own tokens for scripts and integrations — listed, made
// (the token is shown once) and revoked. Thin client of /api/v1/me/tokens.
"use strict";

function pageTokens() {
  const form = $("#token-form");
  const load = async () => {
    try {
      const rows = await api("GET", "/api/v1/me/tokens");
      $("#tokens tbody").innerHTML = rows.map((t) => `<tr><td>${esc(t.name)}</td><td>${when(t.created_at)}</td>`
        + `<td>${t.last_used_at ? when(t.last_used_at) : esc(T("tokens_never"))}</td>`
        + `<td><button class="secondary danger" data-revoke="${t.id}">${esc(T("tokens_revoke"))}</button></td></tr>`).join("")
        || `<tr><td colspan="4" class="meta">${esc(T("tokens_none"))}</td></tr>`;
      $$("#tokens [data-revoke]").forEach((b) => b.addEventListener("click", async () => {
        if (!confirm(T("tokens_revoke_confirm"))) return;
        try { await api("DELETE", `/api/v1/me/tokens/${b.dataset.revoke}`); toast(T("tokens_revoked")); load(); } catch (err) { showError(err); }
      }));
    } catch (err) { showError(err); }
  };
  form.addEventListener("submit", async (e) => {
    e.preventDefault();
    try {
      const made = await api("POST", "/api/v1/me/tokens", { name: formData(form).name });
      $("#token-value").textContent = made.token;
      $("#token-made").hidden = false;
      form.reset(); load();
    } catch (err) { showError(err); }
  });
  $("#token-copy").addEventListener("click", async () => {
    try { await navigator.clipboard.writeText($("#token-value").textContent); toast(T("tokens_copied")); } catch (err) { showError(err); }
  });
  load();
}
window.pageTokens = pageTokens;
