// The scheduled jobs' health (operators): each job's schedule, latest run and how far behind it is, the
// figures /metrics exports. A job late by more than its own period, or whose latest run failed, stands out.
import * as api from "../../resident/api.js";
import { card, errorLine, h, renderer, t, table, when } from "../ui.js";

function every(seconds) {
  if (seconds % 3600 === 0) return t("every_hours", { n: seconds / 3600 });
  if (seconds % 60 === 0) return t("every_minutes", { n: seconds / 60 });
  return t("every_seconds", { n: seconds });
}

export async function jobsView() {
  const show = renderer();
  const heading = h("h1", {}, t("jobs_title"));
  show(heading, h("p", {}, t("loading")));
  let page;
  try {
    page = await api.api("/v1/admin/jobs");
  } catch (error) {
    show(heading, errorLine(error));
    return;
  }
  const rows = page.data.map((job) => {
    const late = job.lag_seconds > job.every_seconds;
    const state = !job.last_ok ? t("job_failed") : late ? t("job_late", { minutes: Math.ceil(job.lag_seconds / 60) }) : t("job_on_time");
    return [h("span", { class: "mono" }, job.name), every(job.every_seconds), when(job.last_run_at),
      h("span", { class: !job.last_ok || late ? "overdue" : "ok" }, state)];
  });
  show(heading, card(null, h("p", { class: "muted" }, t("jobs_note")), rows.length
    ? table(t("jobs_title"), [t("job"), t("schedule"), t("last_run"), t("status")], rows)
    : h("p", {}, t("no_jobs"))));
}
