// Small DOM helpers for the console. Text is always set as text (never parsed as HTML), so nothing the API
// returns can become markup; no inline style either (the page's CSP forbids it).
import { api } from "../resident/api.js";
import { STRINGS } from "./i18n.js";

let lang = localStorage.getItem("xinyi.lang") === "en" ? "en" : "zh";

export function currentLanguage() { return lang; }
export function setCurrentLanguage(value) {
  lang = value;
  localStorage.setItem("xinyi.lang", value);
}

/** The string ``key`` in the current language, with ``{name}`` placeholders filled from ``vars``. */
export function t(key, vars = {}) {
  const table = STRINGS[lang] || STRINGS.zh;
  const text = table[key] ?? STRINGS.zh[key] ?? key;
  return text.replace(/\{(\w+)\}/g, (_, name) => (name in vars ? String(vars[name]) : `{${name}}`));
}

/** ``h("p", {class: "x"}, "text", child)``: an element; ``on*`` attributes become listeners. */
export function h(tag, attrs = {}, ...children) {
  const element = document.createElement(tag);
  for (const [name, value] of Object.entries(attrs || {})) {
    if (value === null || value === undefined || value === false) continue;
    if (name.startsWith("on")) element.addEventListener(name.slice(2), value);
    else if (name === "class") element.className = value;
    else element.setAttribute(name, value === true ? "" : String(value));
  }
  for (const child of children.flat(Infinity)) {
    if (child === null || child === undefined || child === false) continue;
    element.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return element;
}

/** A member's role as the partner's kind says it (a bank's clerk is 办事员, a shop's 店员). */
export function roleName(kind, role) { return t(kind === "bank" ? `bk_role_${role}` : `mrole_${role}`); }

let fieldCount = 0;
/** A labelled control: ``field(label, "input", {name: "x"})`` → [label, control]. */
export function field(label, tag, attrs = {}, ...children) {
  const id = attrs.id || `cf${++fieldCount}`;
  const control = h(tag, { ...attrs, id }, ...children);
  return [h("label", { for: id }, label), control];
}

/** A labelled select of ``[value, text]`` options. */
export function select(label, name, options, value = "") {
  return field(label, "select", { name }, options.map(([v, text]) => h("option", { value: v, selected: v === value }, text)));
}

let cardCount = 0;
/** A titled card is a region named by its heading (screen readers list it; tests find it by name). */
export function card(title, ...children) {
  if (!title) return h("section", { class: "card" }, ...children);
  const id = `ccard${++cardCount}`;
  return h("section", { class: "card", "aria-labelledby": id }, h("h2", { id }, title), ...children);
}

/** A table with a caption (its accessible name), ``columns`` headings and ``rows`` of cells. */
export function table(caption, columns, rows) {
  return h("table", {},
    h("caption", { class: "visually-hidden" }, caption),
    h("thead", {}, h("tr", {}, columns.map((c) => h("th", { scope: "col" }, c)))),
    h("tbody", {}, rows.map((cells) => h("tr", {}, cells.map((c) => (c instanceof Node && c.tagName === "TD" ? c : h("td", {}, c)))))));
}

let currentView = 0;

/** Called by the router as it shows another view. */
export function beginView() { currentView += 1; }

/** A render bound to the view shown now: an answer that arrives after the person moved on shows nothing. */
export function renderer() {
  const mine = currentView;
  return (...children) => { if (mine === currentView) render(...children); };
}

export function render(...children) {
  // A part a view leaves out is null: nothing, not the text "null"
  document.getElementById("view").replaceChildren(...children.filter((c) => c !== null && c !== undefined));
}

const SHANGHAI = "Asia/Shanghai";

/** "2026-12-06 14:02", in the city's time zone (the server's instants are UTC). */
export function when(iso) {
  if (!iso) return "—";
  const parts = new Intl.DateTimeFormat("en-CA", {
    timeZone: SHANGHAI, year: "numeric", month: "2-digit", day: "2-digit",
    hour: "2-digit", minute: "2-digit", hourCycle: "h23",
  }).formatToParts(new Date(iso));
  const get = (type) => parts.find((p) => p.type === type).value;
  return `${get("year")}-${get("month")}-${get("day")} ${get("hour")}:${get("minute")}`;
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
