// Home: level and score, the band, at most four principal reasons each linked to its records, and what
// would raise the score, with dates.
import { api } from "../api.js";
import { card, errorLine, field, h, pick, renderer, t } from "../ui.js";

const LIST_CODES = { black_list: "black", red_list: "red" };

function bindIdentity({ refreshMe, go }) {
  const render = renderer();
  const [nameLabel, name] = field(t("real_name"), "input", { autocomplete: "name", required: true, maxlength: 50 });
  const [idLabel, idNumber] = field(t("id_number"), "input", { autocomplete: "off", required: true, maxlength: 18 });
  const message = h("div");
  const form = h("form", {}, nameLabel, name, idLabel, idNumber, h("p"), h("button", { type: "submit" }, t("bind")), message);
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    try {
      await api("/v1/me/identity", { method: "PUT", json: { name: name.value.trim(), id_number: idNumber.value.trim() } });
      await refreshMe();
      location.reload(); // start the live scans for the newly bound identity
    } catch (error) {
      message.replaceChildren(errorLine(error));
    }
  });
  render(h("h1", {}, t("bind_title")), card(null, h("p", {}, t("bind_note")), form));
}

function recordLine(record) {
  return h("li", {},
    h("a", { href: `#/records/${record.id}` }, record.title || pick(record.category_labels)),
    h("div", { class: "muted" }, t("record_line", {
      department: record.department || record.source,
      date: record.decision_date,
      until: record.counts_until || t("no_end"),
    })));
}

function entryLine(entry) {
  return h("li", {},
    h("strong", {}, entry.title || t(entry.list_type === "black" ? "black_list" : "red_list")),
    h("div", { class: "muted" }, t("entry_line", {
      department: entry.department || "",
      from: entry.starts_on,
      until: entry.ends_on || t("until_removed"),
    })),
    h("div", { class: "muted" }, t("legal_basis", { basis: entry.legal_basis })));
}

function reasonItem(reason, records, entries) {
  const listType = LIST_CODES[reason.code];
  const linked = listType
    ? entries.filter((e) => e.list_type === listType && e.status === "active").map(entryLine)
    : records.filter((r) => r.reason_code === reason.code).map(recordLine);
  const sign = reason.points > 0 ? "+" : "";
  return h("li", {},
    h("div", { class: "row" },
      h("span", { class: "grow" }, pick(reason.labels)),
      h("span", { class: reason.points < 0 ? "points-neg" : "points-pos" }, t("points", { points: `${sign}${reason.points}` }))),
    linked.length ? h("ul", { class: "plain" }, linked) : null);
}

export async function homeView(ctx) {
  const render = renderer();
  if (!ctx.me.identity) return bindIdentity(ctx);
  render(h("p", {}, t("loading")));
  let score, records, entries;
  try {
    [score, records, entries] = await Promise.all([
      api("/v1/me/score"),
      api("/v1/me/records?limit=100"),
      api("/v1/me/list-entries"),
    ]);
  } catch (error) {
    render(errorLine(error));
    return;
  }
  const reasons = score.top_reasons.slice(0, 4);
  const summary = card(null,
    h("div", { class: "row" },
      h("div", { class: score.blocked ? "level blocked" : "level", "aria-label": t("level_is", { level: score.level }) }, score.level),
      h("div", { class: "grow" },
        h("div", { class: "score" }, t("score_of", { score: score.score, max: score.max_score })),
        h("div", {}, pick(score.level_labels)))),
    score.blocked ? h("p", { class: "banner bad", role: "alert" }, t("blocked_banner")) : null,
    h("p"),
    h("a", { href: "#/pass", class: "button" }, t("show_pass")));
  const why = card(t("why_title"),
    reasons.length ? h("ul", { class: "plain" }, reasons.map((r) => reasonItem(r, records.data, entries.data)))
      : h("p", {}, t("no_reasons")));
  const raise = card(t("raise_title"),
    score.improvements.length
      ? h("ul", { class: "plain" }, score.improvements.map((item) => h("li", {},
        h("div", {}, pick(item.messages)),
        item.record_id ? h("a", { href: `#/records/${item.record_id}` }, item.available_now ? t("repair_now") : t("see_record")) : null)))
      : h("p", {}, t("nothing_to_raise")));
  render(h("h1", {}, t("home_title", { name: ctx.me.identity.name })), summary, why, raise);
}
