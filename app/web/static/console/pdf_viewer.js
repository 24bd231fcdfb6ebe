// An evidence PDF drawn page by page onto a <canvas> with the vendored PDF.js. Only pixels reach the page:
// no text or annotation layer (so no link in the file can be followed and nothing of it becomes markup),
// no scripting (PDF.js runs a document's JavaScript only in its viewer's sandbox, which is not loaded),
// and nothing fetched from elsewhere: fonts come from the file or the system, and the Chinese CMaps (for the
// many official PDFs that name STSong-Light or similar without embedding it) from this origin's vendor folder.
import { h, t } from "./ui.js";

const PDFJS = "/static/vendor/pdfjs-dist-6.5.438";

let library = null;

/** PDF.js, loaded the first time a PDF is viewed (it is large, and most visits never need it). */
function pdfjs() {
  library ??= import(`${PDFJS}/pdf.min.mjs`).then((lib) => {
    // A module worker from this origin: the page's worker-src 'self' already allows it
    lib.GlobalWorkerOptions.workerSrc = `${PDFJS}/pdf.worker.min.mjs`;
    return lib;
  }, (error) => { library = null; throw error; });
  return library;
}

/** Open ``data`` (an ArrayBuffer the API sniffed as a PDF) with everything that could reach out turned off. */
async function open(lib, data) {
  return lib.getDocument({
    data,
    isEvalSupported: false, // PostScript functions interpreted, never compiled with eval (6.x has no eval path left)
    enableXfa: false,
    useWasm: false, // the image decoders' JavaScript fallbacks: no .wasm fetched
    useWorkerFetch: false,
    stopAtErrors: false,
    // Only the Chinese CMaps are vendored; no standardFontDataUrl / wasmUrl / iccUrl: nothing else is fetched
    cMapUrl: `${PDFJS}/`,
    cMapPacked: true,
  }).promise;
}

/** A viewer for one PDF: page n of N, previous/next, drawn to fit the width of the card. ``failed`` is
 * called (with the error) when the file cannot be parsed, so the caller can say so beside the download. */
export function pdfViewer(data, name, failed) {
  const status = h("p", { class: "muted", role: "status" }, t("pdf_loading"));
  const counter = h("span", { class: "pdf-counter" });
  const previous = h("button", { type: "button", class: "secondary small", disabled: true }, t("pdf_previous"));
  const next = h("button", { type: "button", class: "secondary small", disabled: true }, t("pdf_next"));
  const canvas = h("canvas", { class: "pdf-page", role: "img", "aria-label": t("pdf_page_alt", { name, page: 1, pages: "…" }) });
  const frame = h("div", { class: "pdf-frame" }, canvas);
  const controls = h("div", { class: "row pdf-controls", hidden: true }, previous, counter, next, h("span", { class: "muted" }, t("pdf_fit_width")));
  const viewer = h("div", { class: "pdf-viewer" }, status, controls, frame);

  let doc = null;
  let lib = null;
  let number = 1;
  let task = null;
  let drawnWidth = 0;

  async function draw() {
    const page = await doc.getPage(number);
    const width = frame.clientWidth || 800;
    const fit = width / page.getViewport({ scale: 1 }).width;
    // Drawn at the screen's pixel density and shown at the frame's width (CSS), so text stays sharp
    const viewport = page.getViewport({ scale: fit * (window.devicePixelRatio || 1) });
    task?.cancel();
    canvas.width = Math.floor(viewport.width);
    canvas.height = Math.floor(viewport.height);
    task = page.render({ canvas, viewport, annotationMode: lib.AnnotationMode.ENABLE });
    try {
      await task.promise;
    } catch (error) {
      if (error?.name === "RenderingCancelledException") return;
      throw error;
    }
    drawnWidth = width;
    counter.textContent = t("pdf_page_of", { page: number, pages: doc.numPages });
    canvas.setAttribute("aria-label", t("pdf_page_alt", { name, page: number, pages: doc.numPages }));
    previous.disabled = number <= 1;
    next.disabled = number >= doc.numPages;
    viewer.dataset.rendered = String(number);
  }

  function go(step) {
    number = Math.min(Math.max(1, number + step), doc.numPages);
    previous.disabled = true;
    next.disabled = true;
    draw().catch(broken);
  }

  function broken(error) {
    task?.cancel();
    doc?.destroy();
    viewer.replaceChildren();
    failed(error);
  }

  previous.addEventListener("click", () => go(-1));
  next.addEventListener("click", () => go(1));
  // Fit to the width again when the card's width changes (window resized, menu shown or hidden)
  new ResizeObserver(() => {
    if (doc && frame.clientWidth && Math.abs(frame.clientWidth - drawnWidth) > 1) draw().catch(broken);
  }).observe(frame);

  (async () => {
    lib = await pdfjs();
    doc = await open(lib, data);
    if (doc.numPages < 1) throw new Error("no pages");
    status.remove();
    controls.hidden = false;
    await draw();
  })().catch(broken);
  return viewer;
}
