// The console's helpers: the shared ones (../web/dom.js) with the console's strings, and its own below.
import { api } from "../resident/api.js";
import { STRINGS } from "./i18n.js";
import { card, field, h, translator } from "../web/dom.js";

export { beginView, card, currentLanguage, field, h, render, renderer, setCurrentLanguage, when } from "../web/dom.js";

/** The string ``key`` in the current language, with ``{name}`` placeholders filled from ``vars``. */
export const t = translator(STRINGS);

export function roleName(kind, role) { return t(kind === "bank" ? `bk_role_${role}` : `mrole_${role}`); }

/** A labelled select of ``[value, text]`` options. */
export function select(label, name, options, value = "") {
  return field(label, "select", { name }, options.map(([v, text]) => h("option", { value: v, selected: v === value }, text)));
}

/** A table with a caption (its accessible name), ``columns`` headings and ``rows`` of cells. */
export function table(caption, columns, rows) {
  return h("table", {},
    h("caption", { class: "visually-hidden" }, caption),
    h("thead", {}, h("tr", {}, columns.map((c) => h("th", { scope: "col" }, c)))),
    h("tbody", {}, rows.map((cells) => h("tr", {}, cells.map((c) => (c instanceof Node && c.tagName === "TD" ? c : h("td", {}, c)))))));
}

/** A message for a failed call: the API's own detail (a refusal names the role it needs), or the network. */
export function problem(error) {
  if (error instanceof TypeError) return t("network_down");
  // The API words a refusal in English only; say it in the page's language too, with the role it names
  if (error.code === "role_required") return t("refused_role", { detail: error.message });
  // A partner member's refusals (README, Partner members): not a member, a suspended partner, another kind
  if (error.code === "partner_not_found") return t("refused_not_member");
  if (error.code === "partner_suspended") return t("refused_suspended");
  if (error.code === "not_for_partner_kind") return t("refused_kind", { detail: error.message });
  if (error.code === "last_owner") return t("refused_last_owner");
  return error.message || t("failed");
}

export function errorLine(error) { return h("p", { class: "error", role: "alert" }, problem(error)); }

/** A fresh Idempotency-Key: a retried click never decides a case twice. */
export function idempotencyKey() { return crypto.randomUUID(); }

/** A secret shown once (an API key, a webhook signing secret): the value, a copy button and the warning
 * that it will not be shown again (the API keeps only its hash, or seals it). */
export function secretCard(title, secret, note = null) {
  const value = h("p", { class: "code secret", id: "secret-once" }, secret);
  const copied = h("span", { role: "status" });
  const copy = h("button", { type: "button", class: "secondary small" }, t("copy"));
  copy.addEventListener("click", async () => {
    try {
      await navigator.clipboard.writeText(secret);
      copied.textContent = t("copied");
    } catch {
      // No clipboard (an insecure origin, a refusal): select the text so Ctrl+C copies it
      getSelection().selectAllChildren(value);
      copied.textContent = t("copy_by_hand");
    }
  });
  const shown = card(title, value, h("div", { class: "row" }, copy, copied),
    h("p", { class: "error" }, t("secret_once")), note ? h("p", { class: "muted" }, note) : null);
  shown.classList.add("once");
  return shown;
}

/** A button of a table row's ``cell`` that asks ``question`` first (when there is one), then makes the API
 * ``call`` and hands its answer to ``after``; a refusal is shown in the cell and the button works again. */
export function actionButton(cell, { text, label, question = null, call, after, primary = false }) {
  const button = h("button", { type: "button", class: primary ? "small" : "secondary small", "aria-label": label }, text);
  button.addEventListener("click", async () => {
    if (question && !window.confirm(question)) return;
    button.disabled = true;
    try {
      after(await call());
    } catch (error) {
      cell.append(errorLine(error));
      button.disabled = false;
    }
  });
  return button;
}

/** On submit, ``send()``; a refusal shows in ``message`` (the API's problem names the field). */
export function onSubmit(form, message, send) {
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    message.replaceChildren();
    try {
      await send();
    } catch (error) {
      message.replaceChildren(errorLine(error));
    }
  });
  return form;
}

/** The first 100 rows of the list at ``path``, or null once the refusal is shown after ``parts``. */
export async function firstPage(path, show, ...parts) {
  try {
    return await api(`${path}?limit=100`);
  } catch (error) {
    show(...parts, errorLine(error));
    return null;
  }
}
