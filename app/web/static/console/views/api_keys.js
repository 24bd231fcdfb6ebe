// A partner's API keys (owners and managers): the keys with their prefix, label, creation, last use and
// status; a new key's secret is shown this once (the platform keeps only its hash); revoking one refuses
// its next request. A scanner device's own key is listed too (revoke the device in its section instead).
import * as api from "../../resident/api.js";
import { actionButton, card, field, firstPage, h, idempotencyKey, onSubmit, renderer, secretCard, t, table, when } from "../ui.js";

function statusOf(key) {
  return key.revoked_at ? t("key_revoked_at", { at: when(key.revoked_at) }) : t("key_active");
}

export async function apiKeysView(ctx, notice = null) {
  const show = renderer();
  const heading = h("h1", {}, t("api_keys_title"));
  const manage = ctx.can("api_keys:manage");
  let form = null;
  if (manage) {
    const [nameLabel, name] = field(t("key_name"), "input", { name: "name", required: true, maxlength: 100, placeholder: t("key_name_hint"), autocomplete: "off" });
    const message = h("div", { role: "status" });
    const key = idempotencyKey();
    form = card(t("create_key_title"), onSubmit(h("form", { novalidate: true }, h("div", { class: "form-grid" }, h("div", {}, nameLabel, name),
      h("div", {}, h("button", { type: "submit" }, t("create_key")))), message), message, async () => {
      const made = await api.api(`${ctx.base}/api-keys`, { method: "POST", json: { name: name.value.trim() }, headers: { "Idempotency-Key": key } });
      apiKeysView(ctx, secretCard(t("key_created", { name: made.name, prefix: made.prefix }), made.secret, t("key_how")));
    }));
  }
  show(heading, notice, form, h("p", {}, t("loading")));
  const page = await firstPage(`${ctx.base}/api-keys`, show, heading, notice, form);
  if (!page) return;
  const rows = page.data.map((k) => {
    const cell = h("td", {});
    if (manage && !k.revoked_at) {
      cell.append(actionButton(cell, {
        text: t("revoke"), label: t("revoke_key_named", { prefix: k.prefix }), question: t("confirm_revoke_key", { name: k.name, prefix: k.prefix }),
        call: () => api.api(`${ctx.base}/api-keys/${encodeURIComponent(k.id)}/revoke`, { method: "POST" }),
        after: () => apiKeysView(ctx, h("p", { class: "banner good", role: "status" }, t("key_revoked", { name: k.name, prefix: k.prefix }))),
      }));
    }
    return [h("span", { class: "mono" }, k.prefix), k.name, when(k.created_at), when(k.last_used_at), statusOf(k), cell];
  });
  show(heading, notice, form, card(t("api_keys_list"), rows.length
    ? table(t("api_keys_list"), [t("key_prefix"), t("key_name"), t("created"), t("key_last_used"), t("status"), ""], rows)
    : h("p", {}, t("no_keys")), page.has_more ? h("p", { class: "muted" }, t("first_100")) : null));
}
