// Every scan of my passes, newest first; a scan arriving while the page is open is added on top.
import { api } from "../api.js";
import { benefitText, card, errorLine, h, renderer, scanSentence, t, when } from "../ui.js";

function scanItem(scan) {
  return h("li", {},
    h("div", {}, scanSentence(scan)),
    h("div", { class: "muted" }, [
      when(scan.created_at),
      scan.mode === "offline" ? t("offline_use") : null,
      scan.flagged ? t("flagged_use") : null,
      scan.decision === "eligible" && scan.benefit ? benefitText(scan.benefit) : null,
    ].filter(Boolean).join(" · ")));
}

export async function scansView() {
  const render = renderer();
  const list = h("ul", { class: "plain" });
  const more = h("button", { type: "button", class: "secondary", hidden: true }, t("load_more"));
  const message = h("div");
  let last = null;
  async function page() {
    try {
      const query = last ? `&starting_after=${encodeURIComponent(last)}` : "";
      const result = await api(`/v1/me/verifications?limit=20${query}`);
      list.append(...result.data.map(scanItem));
      if (result.data.length) last = result.data[result.data.length - 1].id;
      more.hidden = !result.has_more;
      if (!list.children.length) list.append(h("li", {}, t("no_scans")));
    } catch (error) {
      message.replaceChildren(errorLine(error));
    }
  }
  more.addEventListener("click", page);
  render(h("h1", {}, t("nav_scans")), card(null, list, more, message));
  const onScan = (event) => list.prepend(scanItem(event.detail));
  document.addEventListener("xinyi:scan", onScan);
  page();
  return () => document.removeEventListener("xinyi:scan", onScan);
}
