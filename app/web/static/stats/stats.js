// Draws the public statistics page's charts from the public API (the tables are already on the page).
// Loaded with `defer` after the vendored ECharts; nothing here is inline, so the page's CSP holds.
"use strict";

(function () {
  const main = document.getElementById("stats");
  const en = main.dataset.lang === "en";
  const L = en
    ? { referrals: "Referred", approvals: "Approved", amount: "Approved (CNY)", scans: "Scans", eligible: "Eligible" }
    : { referrals: "推荐", approvals: "获批", amount: "获批金额（元）", scans: "核验次数", eligible: "符合条件" };

  function draw(id, option) {
    const element = document.getElementById(id);
    const chart = window.echarts.init(element, null, { renderer: "canvas" });
    chart.setOption(Object.assign({ animation: false, tooltip: { trigger: "axis" }, legend: {}, grid: { containLabel: true } }, option));
    window.addEventListener("resize", () => chart.resize());
    element.dataset.drawn = "true";
  }

  async function json(path) {
    const response = await fetch(path, { headers: { Accept: "application/json" } });
    if (!response.ok) throw new Error(path + ": " + response.status);
    return response.json();
  }

  async function main_() {
    if (!window.echarts) return; // the tables carry the figures on their own
    const [loans, usage] = await Promise.all([json("/v1/stats/xinyidai"), json("/v1/stats/scenarios")]);
    if (loans.by_month.length) {
      draw("chart-xinyidai-month", {
        xAxis: { type: "category", data: loans.by_month.map((m) => m.month) },
        yAxis: [{ type: "value", minInterval: 1 }, { type: "value" }],
        series: [
          { name: L.referrals, type: "bar", data: loans.by_month.map((m) => m.referrals) },
          { name: L.approvals, type: "bar", data: loans.by_month.map((m) => m.approvals) },
          { name: L.amount, type: "line", yAxisIndex: 1, data: loans.by_month.map((m) => m.approved_amount_fen / 100) },
        ],
      });
    }
    if (loans.by_bank.length) {
      draw("chart-xinyidai-bank", {
        xAxis: { type: "category", data: loans.by_bank.map((b) => b.bank_name) },
        yAxis: { type: "value", minInterval: 1 },
        series: [
          { name: L.referrals, type: "bar", data: loans.by_bank.map((b) => b.referrals) },
          { name: L.approvals, type: "bar", data: loans.by_bank.map((b) => b.approvals) },
        ],
      });
    }
    draw("chart-scenarios", {
      xAxis: { type: "category", data: usage.by_scenario.map((s) => (en ? s.name_en : s.name_zh)) },
      yAxis: { type: "value", minInterval: 1 },
      series: [
        { name: L.scans, type: "bar", data: usage.by_scenario.map((s) => s.scans) },
        { name: L.eligible, type: "bar", data: usage.by_scenario.map((s) => s.eligible) },
      ],
    });
    main.dataset.charts = "ready";
  }

  main_().catch((error) => {
    main.dataset.charts = "failed";
    console.error(error);
  });
})();
