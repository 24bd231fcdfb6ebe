// A bank's loan products (partner members): the list, and one form to publish a product or change one
// (amounts typed in yuan, rates in percent; the API keeps fen and basis points and names a wrong field).
import * as api from "../../resident/api.js";
import { card, errorLine, field, h, idempotencyKey, select, t, table } from "../ui.js";
import { heading, may, percent, roleName, shower, toBps, toFen, yuan } from "./bank_common.js";

const LEVELS = ["AAA", "AA", "A", "B", "C", "D"];
const REQUIRED = ["name", "min_amount", "max_amount", "min_term", "max_term", "min_rate", "max_rate"];

function listOf(text) {
  return text.split(/[,，\s]+/).map((x) => x.trim()).filter(Boolean);
}
function intOrNull(text) { return text.trim() === "" ? null : Number(text.trim()); }

/** The publish / change form; ``product`` null publishes a new one. */
function productForm(base, product, done) {
  const p = product || {};
  const text = (label, name, value, attrs = {}) => field(label, "input", { name, value: value ?? "", autocomplete: "off", ...attrs });
  const controls = {
    name: text(t("bk_product_name"), "name", p.name, { maxlength: 100, required: true }),
    description: text(t("bk_description"), "description", p.description, { maxlength: 500 }),
    min_level: select(t("bk_min_level"), "min_level", LEVELS.map((l) => [l, l]), p.min_level || "B"),
    min_amount: text(t("bk_min_amount"), "min_amount", p.min_amount_fen === undefined ? "" : String(p.min_amount_fen / 100), { inputmode: "decimal" }),
    max_amount: text(t("bk_max_amount"), "max_amount", p.max_amount_fen === undefined ? "" : String(p.max_amount_fen / 100), { inputmode: "decimal" }),
    min_term: text(t("bk_min_term"), "min_term", p.min_term_months, { inputmode: "numeric" }),
    max_term: text(t("bk_max_term"), "max_term", p.max_term_months, { inputmode: "numeric" }),
    min_rate: text(t("bk_min_rate"), "min_rate", p.min_rate_bps === undefined ? "" : percent(p.min_rate_bps), { inputmode: "decimal" }),
    max_rate: text(t("bk_max_rate"), "max_rate", p.max_rate_bps === undefined ? "" : percent(p.max_rate_bps), { inputmode: "decimal" }),
    industries: text(t("bk_industries"), "industries", (p.industries || []).join(",")),
    regions: text(t("bk_regions"), "regions", (p.regions || []).join(",")),
    active: select(t("bk_active"), "active", [["true", t("bk_yes")], ["false", t("bk_no")]], p.active === false ? "false" : "true"),
  };
  const value = (name) => controls[name][1].value;
  const message = h("div", { role: "status" });
  const key = idempotencyKey();
  const form = h("form", { novalidate: true },
    h("div", { class: "form-grid" }, Object.values(controls).map(([label, control]) => h("div", {}, label, control))),
    h("div", { class: "row" }, h("button", { type: "submit" }, product ? t("bk_save") : t("bk_publish")),
      product ? h("button", { type: "button", class: "secondary", onclick: () => done(null) }, t("bk_cancel")) : null),
    message);
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    message.replaceChildren();
    // A change leaves out what is sent empty (the API keeps it as it was): a field the product must have is
    // asked for here, by its label, rather than silently kept
    const missing = REQUIRED.find((name) => value(name).trim() === "");
    if (missing) {
      message.replaceChildren(h("p", { class: "error", role: "alert" }, t("bk_fill_in", { field: controls[missing][0].textContent })));
      controls[missing][1].focus();
      return;
    }
    const body = {
      name: value("name").trim(), description: value("description").trim() || null, min_level: value("min_level"),
      min_amount_fen: toFen(value("min_amount")), max_amount_fen: toFen(value("max_amount")),
      min_term_months: intOrNull(value("min_term")), max_term_months: intOrNull(value("max_term")),
      min_rate_bps: toBps(value("min_rate")), max_rate_bps: toBps(value("max_rate")),
      industries: listOf(value("industries").toUpperCase()), regions: listOf(value("regions")), active: value("active") === "true",
    };
    try {
      const saved = product
        ? await api.api(`${base}/${encodeURIComponent(product.id)}`, { method: "PATCH", json: body })
        : await api.api(base, { method: "POST", json: body, headers: { "Idempotency-Key": key } });
      done(h("p", { class: "banner good", role: "status" }, t(product ? "bk_saved" : "bk_published", { name: saved.name })));
    } catch (error) {
      message.replaceChildren(errorLine(error));
    }
  });
  return form;
}

export async function productsView(ctx, notice = null) {
  const { membership } = ctx;
  const show = shower();
  const base = `${ctx.base}/loan-products`;
  const title = t("bk_products_title");
  show(h("h1", {}, title), h("p", {}, t("loading")));
  const again = (message) => productsView(ctx, message);
  let page;
  try {
    page = await api.api(`${base}?limit=100`);
  } catch (error) {
    show(...heading(title, membership), errorLine(error));
    return;
  }
  const manage = may(membership, "loan_products:manage");
  const editor = h("div");
  const rows = page.data.map((p) => {
    const edit = manage ? h("button", { type: "button", class: "secondary small", "aria-label": `${t("bk_edit")} ${p.name}` }, t("bk_edit")) : null;
    edit?.addEventListener("click", () => {
      editor.replaceChildren(card(t("bk_edit_product", { name: p.name }), productForm(base, p, (message) => (message ? again(message) : editor.replaceChildren()))));
      editor.scrollIntoView();
    });
    const any = (list) => (list.length ? list.join(", ") : t("bk_any"));
    return [p.name, p.min_level, `${yuan(p.min_amount_fen)} – ${yuan(p.max_amount_fen)}`, `${p.min_term_months} – ${t("bk_months", { n: p.max_term_months })}`,
      `${percent(p.min_rate_bps)}% – ${percent(p.max_rate_bps)}%`, any(p.industries), any(p.regions), p.active ? t("bk_yes") : t("bk_no"), edit ? h("td", {}, edit) : ""];
  });
  const list = card(title, rows.length
    ? table(title, [t("bk_product_name"), t("bk_min_level"), t("bk_amount_range"), t("bk_term_range"), t("bk_rate_range"), t("bk_industry"), t("bk_region"), t("bk_active"), ""], rows)
    : h("p", {}, t("bk_no_products")), page.has_more ? h("p", { class: "muted" }, t("first_100")) : null);
  const publish = manage
    ? card(t("bk_new_product"), productForm(base, null, again))
    : card(t("bk_new_product"), h("p", { class: "muted" }, t("bk_no_products_role", { role: roleName(membership) })));
  show(...heading(title, membership), notice, list, editor, publish);
}
