// Charts for the partner members' figures, drawn with the vendored ECharts (as the public /stats page does).
// A chart is a picture of the table beside it, which stays the accessible (and exact) alternative.
import { h } from "./ui.js";

const ECHARTS = "/static/vendor/echarts-6.1.0/echarts.common.min.js";

let library = null;

/** ECharts, loaded once, the first time a chart is drawn (its UMD build sets globalThis.echarts). */
function echarts() {
  library ??= import(ECHARTS).then(() => globalThis.echarts, (error) => { library = null; throw error; });
  return library;
}

/** A chart's box, named for assistive technology; ``option`` is drawn into it once it is in the page.
 * If ECharts cannot load, the box is hidden and the table still carries the figures. */
export function chart(label, option) {
  const box = h("div", { class: "chart", role: "img", "aria-label": label });
  echarts().then((lib) => {
    const drawn = lib.init(box, null, { renderer: "canvas" });
    drawn.setOption({
      animation: false,
      // Drawn in the canvas, not as HTML: nothing from the API becomes markup, and no inline style for the CSP
      tooltip: { trigger: "axis", renderMode: "richText" },
      // Legend above the plot (ECharts 6 puts it at the bottom, over the axis' labels)
      legend: { top: 0 },
      grid: { containLabel: true, left: 8, right: 16, top: 36, bottom: 8 },
      ...option,
    });
    new ResizeObserver(() => drawn.resize()).observe(box);
    box.dataset.drawn = "true";
  }, () => { box.hidden = true; });
  return box;
}
