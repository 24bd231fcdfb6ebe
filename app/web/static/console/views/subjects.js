// Looking a subject up (operators): the API records who looked, why and on what legal basis in the
// subject's own access log, so the form asks for both before anything is read.
import * as api from "../../resident/api.js";
import { card, errorLine, field, h, renderer, t } from "../ui.js";

export function subjectsView() {
  const show = renderer();
  const [idLabel, subjectId] = field(t("subject_id"), "input", { name: "subject_id", required: true, maxlength: 32, autocomplete: "off" });
  const [purposeLabel, purpose] = field(t("purpose"), "input", { name: "purpose", required: true, minlength: 4, maxlength: 200 });
  const [basisLabel, basis] = field(t("legal_basis"), "input", { name: "legal_basis", required: true, minlength: 4, maxlength: 200 });
  const result = h("div", { role: "status" });
  const form = h("form", { novalidate: true }, h("div", { class: "form-grid" }, h("div", {}, idLabel, subjectId), h("div", {}, purposeLabel, purpose), h("div", {}, basisLabel, basis)),
    h("p", { class: "muted" }, t("lookup_note")), h("button", { type: "submit" }, t("look_up")));
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    result.replaceChildren();
    const query = new URLSearchParams({ purpose: purpose.value.trim(), legal_basis: basis.value.trim() });
    const id = encodeURIComponent(subjectId.value.trim());
    try {
      const subject = await api.api(`/v1/admin/subjects/${id}?${query}`);
      const score = await api.api(`/v1/admin/subjects/${id}/score?${query}`);
      const facts = [
        [t("subject_id"), subject.id], [t("subject_kind"), t(`kind_${subject.kind}`)], [t("name"), subject.name ?? "—"],
        [t("id_number_masked"), subject.id_number ?? "—"], [t("uscc"), subject.uscc ?? "—"],
        [t("score_title"), t("score_now", { score: score.score, level: score.level })],
      ];
      result.replaceChildren(card(t("subject_found"), h("dl", { class: "facts" }, facts.map(([k, v]) => [h("dt", {}, k), h("dd", {}, v)])),
        h("ul", {}, score.top_reasons.map((r) => h("li", {}, t("reason_points", { label: r.label, points: r.points }))))));
    } catch (error) {
      result.replaceChildren(errorLine(error));
    }
  });
  show(h("h1", {}, t("subjects_title")), card(null, form), result);
}
