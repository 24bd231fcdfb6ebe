// A partner's webhook endpoints (banks, data providers): the endpoints, adding one (its signing secret is
// shown this once), enabling or disabling one, rotating its secret (the old one keeps signing beside the
// new for the grace period) and deleting one after a confirmation.
import * as api from "../../resident/api.js";
import { actionButton, card, field, firstPage, h, idempotencyKey, onSubmit, renderer, secretCard, t, table, when } from "../ui.js";

// The event types the API sends (app/webhooks/service.py EVENT_TYPES), by the kind of partner they concern.
const EVENT_TYPES = {
  bank: ["referral.created"],
  data_provider: ["objection.filed", "objection.answered", "objection.overdue"],
};

function eventLabel(type) { return t(`event_${type.replace(".", "_")}`); }

function addCard(ctx) {
  const [urlLabel, url] = field(t("endpoint_url"), "input", { type: "url", name: "url", required: true, placeholder: "https://", autocomplete: "off" });
  const [descriptionLabel, description] = field(t("endpoint_description"), "input", { name: "description", maxlength: 200, autocomplete: "off" });
  const types = EVENT_TYPES[ctx.membership ? ctx.membership.partner.kind : ""] || [];
  const boxes = types.map((type) => {
    const id = `event-${type.replace(".", "-")}`;
    return [h("input", { type: "checkbox", name: "event_types", id, value: type }), h("label", { class: "choice", for: id }, eventLabel(type), " ", h("span", { class: "mono" }, type))];
  });
  const message = h("div", { role: "status" });
  const key = idempotencyKey();
  const form = h("form", { novalidate: true },
    h("div", { class: "form-grid" }, h("div", {}, urlLabel, url), h("div", {}, descriptionLabel, description)),
    h("fieldset", {}, h("legend", {}, t("endpoint_events")), h("p", { class: "muted" }, t("endpoint_events_note")),
      boxes.map((pair) => h("div", {}, pair))),
    h("button", { type: "submit" }, t("add_endpoint")), message);
  onSubmit(form, message, async () => {
    const chosen = [...form.querySelectorAll("input[name=event_types]:checked")].map((box) => box.value);
    const body = { url: url.value.trim(), description: description.value.trim() || null, event_types: chosen.length ? chosen : null };
    const made = await api.api(`${ctx.base}/webhook-endpoints`, { method: "POST", json: body, headers: { "Idempotency-Key": key } });
    endpointsView(ctx, secretCard(t("endpoint_secret_title", { url: made.url }), made.secret, t("endpoint_secret_how")));
  });
  return card(t("add_endpoint_title"), form);
}

function actions(ctx, e) {
  const cell = h("td", {});
  const path = `${ctx.base}/webhook-endpoints/${encodeURIComponent(e.id)}`;
  const banner = (key) => h("p", { class: "banner good", role: "status" }, t(key, { url: e.url }));
  cell.append(
    actionButton(cell, {
      text: t(e.enabled ? "disable" : "enable"), label: t(e.enabled ? "disable_named" : "enable_named", { url: e.url }),
      call: () => api.api(path, { method: "PATCH", json: { enabled: !e.enabled } }),
      after: (changed) => endpointsView(ctx, banner(changed.enabled ? "endpoint_enabled" : "endpoint_disabled")),
    }), " ",
    actionButton(cell, {
      text: t("rotate_secret"), label: t("rotate_secret_named", { url: e.url }), question: t("confirm_rotate", { url: e.url }),
      call: () => api.api(`${path}/rotate-secret`, { method: "POST", json: {}, headers: { "Idempotency-Key": idempotencyKey() } }),
      after: (rotated) => endpointsView(ctx, secretCard(t("endpoint_new_secret_title", { url: e.url }), rotated.secret,
        t("previous_secret_until", { until: when(rotated.previous_secret_expires_at) }))),
    }), " ",
    actionButton(cell, {
      text: t("delete"), label: t("delete_named", { url: e.url }), question: t("confirm_delete_endpoint", { url: e.url }),
      call: () => api.api(path, { method: "DELETE" }),
      after: () => endpointsView(ctx, banner("endpoint_deleted")),
    }));
  return cell;
}

export async function endpointsView(ctx, notice = null) {
  const show = renderer();
  const heading = h("h1", {}, t("endpoints_title"));
  const manage = ctx.can("webhooks:manage");
  const add = manage ? addCard(ctx) : null;
  show(heading, notice, add, h("p", {}, t("loading")));
  const page = await firstPage(`${ctx.base}/webhook-endpoints`, show, heading, notice, add);
  if (!page) return;
  const rows = page.data.map((e) => [h("span", { class: "mono" }, e.url), e.description || "—",
    e.event_types.length ? e.event_types.map(eventLabel).join("、") : t("all_events"),
    e.enabled ? t("endpoint_on") : t("endpoint_off"),
    e.previous_secret_expires_at ? t("previous_secret_until", { until: when(e.previous_secret_expires_at) }) : "—",
    when(e.created_at), manage ? actions(ctx, e) : ""]);
  show(heading, notice, add, card(t("endpoints_list"), rows.length
    ? table(t("endpoints_list"), [t("endpoint_url"), t("endpoint_description"), t("endpoint_events"), t("status"), t("previous_secret"), t("created"), ""], rows)
    : h("p", {}, t("no_endpoints")), page.has_more ? h("p", { class: "muted" }, t("first_100")) : null));
}
