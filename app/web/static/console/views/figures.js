// Pieces the partner members' figures share: the date range form (business dates in China, as the API
// reads "from" and "to"; empty means its default, the last 30 days) and rates shown as percentages.
import { field, h, t } from "../ui.js";

/** The hash's query ("#/p/x/scans?from=…"), as URLSearchParams. */
export function hashQuery() { return new URLSearchParams(location.hash.split("?")[1] || ""); }

/** "from"/"to" of the hash, as a query string for the API ("" when neither is set). */
export function rangeQuery() {
  const query = hashQuery();
  const out = new URLSearchParams();
  for (const name of ["from", "to"]) if (query.get(name)) out.set(name, query.get(name));
  return out.toString();
}

/** A from–to form; submitting it moves to ``path`` with the range (and ``keep``'s other filters). */
export function rangeForm(path, go, keep = {}) {
  const query = hashQuery();
  const [fromLabel, from] = field(t("date_from"), "input", { type: "date", name: "from", value: query.get("from") || "" });
  const [toLabel, to] = field(t("date_to"), "input", { type: "date", name: "to", value: query.get("to") || "" });
  const form = h("form", { novalidate: true, class: "form-grid" }, h("div", {}, fromLabel, from), h("div", {}, toLabel, to),
    h("div", {}, h("button", { type: "submit", class: "secondary" }, t("show_range"))));
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    const next = new URLSearchParams(keep);
    if (from.value) next.set("from", from.value);
    if (to.value) next.set("to", to.value);
    go(next.toString() ? `${path}?${next}` : path);
  });
  return form;
}

/** 0.8333 → "83.3%"; null (nothing to divide by) → "—". */
export function percent(rate) { return rate === null || rate === undefined ? "—" : `${(rate * 100).toFixed(1)}%`; }

/** Big numbers in a row: [[label, value], …]. */
export function figures(pairs) {
  return h("div", { class: "figures" }, pairs.map(([label, value]) => h("div", {}, h("span", { class: "muted" }, label), h("strong", {}, value))));
}
