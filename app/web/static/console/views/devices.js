// Scanner devices (merchants, government counters): the counter devices, adding one (its enrolment code
// and QR code are shown once, valid 24 h: the device reads them at /scan) and revoking one (its next scan
// is refused).
import * as api from "../../resident/api.js";
import { actionButton, card, field, firstPage, h, idempotencyKey, onSubmit, renderer, t, table, when } from "../ui.js";

function enrolmentCard(device) {
  const shown = card(t("enrolment_title", { name: device.name }),
    h("div", { class: "row" },
      h("img", { src: device.enrolment_qr_svg_data_url, alt: t("enrolment_qr_alt"), width: 240, height: 240 }),
      h("div", { class: "grow" },
        h("p", {}, t("enrolment_code")),
        h("p", { class: "code", id: "enrolment-code" }, device.enrolment_code),
        h("p", { class: "error" }, t("enrolment_once", { until: when(device.enrolment_expires_at) })),
        h("p", { class: "muted" }, t("enrolment_how", { page: device.enrolment_page })))));
  shown.classList.add("once");
  return shown;
}

export async function devicesView(ctx, notice = null) {
  const show = renderer();
  const heading = h("h1", {}, t("devices_title"));
  let form = null;
  if (ctx.can("scanner_devices:manage")) {
    const [nameLabel, name] = field(t("device_name"), "input", { name: "name", required: true, maxlength: 100, placeholder: t("device_name_hint") });
    const message = h("div", { role: "status" });
    const key = idempotencyKey();
    form = card(t("add_device_title"), onSubmit(h("form", { novalidate: true }, h("div", { class: "form-grid" }, h("div", {}, nameLabel, name),
      h("div", {}, h("button", { type: "submit" }, t("add_device")))), message), message, async () => {
      const made = await api.api(`${ctx.base}/scanner-devices`, { method: "POST", json: { name: name.value.trim() }, headers: { "Idempotency-Key": key } });
      devicesView(ctx, enrolmentCard(made));
    }));
  }
  show(heading, notice, form, h("p", {}, t("loading")));
  const page = await firstPage(`${ctx.base}/scanner-devices`, show, heading, notice, form);
  if (!page) return;
  const rows = page.data.map((d) => {
    const cell = h("td", {});
    if (ctx.can("scanner_devices:manage") && (d.status === "enrolled" || d.status === "awaiting_enrolment")) {
      cell.append(actionButton(cell, {
        text: t("revoke"), label: t("revoke_named", { name: d.name }), question: t("confirm_revoke_device", { name: d.name }),
        call: () => api.api(`${ctx.base}/scanner-devices/${encodeURIComponent(d.id)}/revoke`, { method: "POST" }),
        after: () => devicesView(ctx, h("p", { class: "banner good", role: "status" }, t("device_revoked", { name: d.name }))),
      }));
    }
    return [d.name, t(`dvstatus_${d.status}`), d.scenario || "—", when(d.created_at), when(d.enrolled_at), when(d.revoked_at), cell];
  });
  show(heading, notice, form, card(t("devices_list"), rows.length
    ? table(t("devices_list"), [t("device_name"), t("status"), t("scenario"), t("created"), t("enrolled_at"), t("revoked_at"), ""], rows)
    : h("p", {}, t("no_devices")), page.has_more ? h("p", { class: "muted" }, t("first_100")) : null));
}
