// /scan: enrol the device, choose its scenario once, then scan: camera (BarcodeDetector or zxing-wasm),
// torch, manual entry; online verification, or offline codes decided here; rentals for rental partners.

import { api, ApiError, credential, NetworkError, yuan } from "./api.js";
import { FAILURES, itemName, REFUSALS, UNKNOWN_FAILURE } from "./messages.js";
import * as offline from "./offline.js";
import { Camera, tokenFrom } from "./reader.js";

const DEVICE = "xinyi.scan.device";
const SETTINGS = "xinyi.scan.settings";
const RENTALS = "xinyi.scan.rentals";
const REFRESH_MS = 60_000;

const $ = (id) => document.getElementById(id);
const load = (key, fallback) => JSON.parse(localStorage.getItem(key) || "null") ?? fallback;
const save = (key, value) => localStorage.setItem(key, JSON.stringify(value));

let device = load(DEVICE, null);
let settings = load(SETTINGS, null);
let lastVerification = null;

function show(...ids) {
  for (const id of ["enrol", "setup", "scanner", "result", "rentals", "settings"]) $(id).hidden = !ids.includes(id);
}

function scenario() {
  return device.scenarios.find((s) => s.id === settings.scenario);
}

function benefitText(benefit) {
  if (!benefit) return "";
  const parts = [];
  const caps = benefit.waived_deposit_fen;
  if (caps) {
    const cap = settings.item ? caps[settings.item] : Math.max(...Object.values(caps));
    parts.push(`免押金，最高 ${yuan(cap)}`);
  } else {
    parts.push(benefit.zh);
  }
  if (benefit.credit_limit_fen) parts.push(`额度 ${yuan(benefit.credit_limit_fen)}`);
  if (benefit.max_amount_fen) parts.push(`最高 ${yuan(benefit.max_amount_fen)}`);
  if (benefit.free_minutes) parts.push(`免费 ${benefit.free_minutes} 分钟`);
  if (benefit.discount_percent) parts.push(`优惠 ${benefit.discount_percent}%`);
  return parts.join("，");
}

// --- status line: network, the offline list's age, uses waiting to be reported -----------------------

function renderStatus() {
  const age = offline.listAge();
  let list = "离线名单：尚未下载";
  if (age) {
    const minutes = Math.floor(age.ageSeconds / 60);
    const when = minutes < 1 ? "刚刚" : minutes < 60 ? `${minutes} 分钟前` : `${Math.floor(minutes / 60)} 小时前`;
    list = age.ageSeconds > age.maxAge ? `离线名单已过期（更新于 ${when}）` : `离线名单更新于 ${when}`;
  }
  $("net-line").textContent = `${navigator.onLine ? "在线" : "离线"} · ${list}`;
  $("net-line").dataset.state = navigator.onLine ? "online" : "offline";
  const pending = offline.pendingUses();
  $("pending").textContent = pending ? `${pending} 条离线核验待上报（联网后自动上报）` : "";
}

async function sync() {
  let reported = 0;
  if (navigator.onLine && credential.get()) {
    try {
      reported = await offline.reportUses(); // first: the fresh list then counts these uses too
      await offline.refresh();
    } catch (error) {
      if (!(error instanceof NetworkError)) console.warn("sync failed", error);
    }
  }
  renderStatus();
  if (reported) $("pending").textContent = `已上报 ${reported} 条离线核验`;
}

// --- the result ---------------------------------------------------------------------------------------

function showResult(state, verdict, { benefit = "", reason = "", advice = "", meta = "" } = {}) {
  $("result").dataset.state = state;
  $("result-verdict").textContent = verdict;
  $("result-benefit").textContent = benefit;
  $("result-reason").textContent = reason;
  $("result-advice").textContent = advice;
  $("result-meta").textContent = meta;
  $("rent-open").hidden = !(state === "eligible" && device.can_rent && lastVerification);
  show("scanner", "result", "rentals", "settings");
  $("rentals").hidden = !load(RENTALS, []).length;
  $("result").focus();
}

function showFailure(code) {
  const [verdict, reason, advice] = FAILURES[code] || UNKNOWN_FAILURE;
  if (code === "api_key_revoked" || code === "invalid_api_key") forgetDevice();
  showResult(code === "token_replayed" ? "used" : "failed", verdict, { reason, advice });
}

function showDecision(verification) {
  lastVerification = verification.decision === "eligible" ? verification : null;
  if (verification.decision === "eligible") {
    showResult("eligible", "✓ 符合条件", {
      benefit: benefitText(verification.benefit),
      reason: verification.reason_labels.zh,
      meta: `核验编号 ${verification.id}`,
    });
  } else {
    const [reason, advice] = REFUSALS[verification.reason] || [verification.reason_labels.zh, ""];
    showResult("not-eligible", "✗ 不符合条件", { reason, advice, meta: `核验编号 ${verification.id}` });
  }
}

async function check(text, frameAt = performance.now()) {
  const token = tokenFrom(text);
  const jws = token && offline.parseJws(token);
  if (!jws || jws.header.alg !== "EdDSA" || typeof jws.payload.h !== "string") {
    showFailure(text.trim() ? "not_xinyi" : "no_code");
  } else {
    await decide(jws, token);
  }
  // From grabbing the frame that held the code to showing the result (make bench-web reads it).
  $("result").dataset.frameToResultMs = String(Math.round(performance.now() - frameAt));
}

async function decide(jws, token) {
  lastVerification = null;
  const current = scenario();
  try {
    if (!navigator.onLine) throw new NetworkError("offline");
    const verification = await api("POST", "/v1/verifications", {
      body: { token, scenario: current.id },
      idempotent: true,
    });
    return showDecision(verification);
  } catch (error) {
    if (error instanceof ApiError) return showFailure(error.code);
    if (!(error instanceof NetworkError)) throw error;
  }
  try {
    await offline.verifyOffline(jws, current);
  } catch (refusal) {
    return showFailure(refusal.code === "online_only" ? "network" : refusal.code);
  } finally {
    renderStatus();
  }
  showResult("eligible", "✓ 符合条件（离线核验）", {
    benefit: benefitText(current.benefit),
    reason: "离线码，签发时符合条件",
    meta: "离线核验：联网后自动上报",
  });
}

// --- rentals ------------------------------------------------------------------------------------------

function renderRentals() {
  const rentals = load(RENTALS, []);
  $("rentals").hidden = !rentals.length;
  $("rental-list").replaceChildren(
    ...rentals.map((rental) => {
      const item = document.createElement("li");
      const label = document.createElement("span");
      label.textContent = `${itemName(rental.kind)} · ${new Date(rental.opened_at).toLocaleTimeString("zh-CN")}`;
      const button = document.createElement("button");
      button.type = "button";
      button.className = "secondary";
      button.textContent = "归还";
      button.setAttribute("aria-label", `归还${itemName(rental.kind)}（${rental.id}）`);
      button.addEventListener("click", () => returnRental(rental.id));
      item.append(label, button);
      return item;
    }),
  );
}

async function openRental() {
  const verification = lastVerification;
  $("rent-open").disabled = true;
  try {
    const rental = await api("POST", "/v1/rentals", {
      idempotent: true,
      body: {
        verification_id: verification.id,
        item: { kind: settings.item },
        deposit_fen: settings.deposit_fen,
        due_at: new Date(Date.now() + 24 * 3600 * 1000).toISOString(),
      },
    });
    save(RENTALS, [...load(RENTALS, []), { id: rental.id, kind: settings.item, opened_at: rental.opened_at }]);
    lastVerification = null;
    const held = rental.fund_amount ? `，另在对方银行卡上冻结 ${yuan(rental.fund_amount)}` : "";
    showResult("eligible", "✓ 已免押金租出", {
      benefit: `${itemName(settings.item)}已租出，免押金 ${yuan(rental.credit_amount)}${held}`,
      meta: `租借编号 ${rental.id}`,
    });
    renderRentals();
  } catch (error) {
    showFailure(error instanceof NetworkError ? "network" : error.code);
  } finally {
    $("rent-open").disabled = false;
  }
}

async function returnRental(id) {
  try {
    await api("POST", `/v1/rentals/${encodeURIComponent(id)}/return`, { idempotent: true });
    save(RENTALS, load(RENTALS, []).filter((r) => r.id !== id));
    renderRentals();
    showResult("returned", "已归还", { meta: `租借编号 ${id}` });
  } catch (error) {
    showFailure(error instanceof NetworkError ? "network" : error.code);
  }
}

// --- enrolment and set-up -----------------------------------------------------------------------------

function forgetDevice() {
  credential.clear();
  for (const key of [DEVICE, SETTINGS, RENTALS]) localStorage.removeItem(key);
  offline.forget();
  device = null;
  settings = null;
}

// A manager's screen shows the enrolment code as a QR code holding this (app.scanners.router).
const ENROLMENT_QR = /^XINYI-ENROL:([0-9A-Z]{4}(?:-[0-9A-Z]{4}){3})$/;

async function enrol(event) {
  event.preventDefault();
  $("enrol-error").textContent = "";
  const code = $("enrol-code").value.trim();
  if (!code) {
    $("enrol-error").textContent = "请输入激活码。";
    return;
  }
  try {
    const enrolled = await api("POST", "/v1/scanner/enrolment", { body: { code }, auth: false });
    enrolCamera.stop();
    credential.set(enrolled.credential);
    device = enrolled.device;
    save(DEVICE, device);
    start();
  } catch (error) {
    $("enrol-error").textContent =
      error instanceof NetworkError
        ? "网络不可用，请联网后再激活。"
        : error.code === "enrolment_code_expired"
          ? "激活码已过期，请商户管理员重新生成。"
          : "激活码无效或已使用，请核对后重试。";
  }
}

const enrolCamera = new Camera($("enrol-camera"), {
  onCode: (text) => {
    const found = ENROLMENT_QR.exec(text.trim());
    if (!found) {
      $("enrol-error").textContent = "这不是激活二维码：请扫描商户管理员屏幕上显示的激活二维码。";
      setTimeout(() => enrolCamera.resume(), 1500); // time to take the wrong code away
      return;
    }
    $("enrol-code").value = found[1];
    $("enrol-form").requestSubmit();
  },
  onIdle: (seconds) => {
    $("enrol-camera-state").textContent = `已扫描 ${seconds} 秒，未找到激活二维码：请将其完整放入取景框。`;
  },
});

async function startEnrolCamera() {
  $("enrol-error").textContent = "";
  $("enrol-camera-state").textContent = "正在打开摄像头…";
  try {
    $("enrol-camera").hidden = false;
    await enrolCamera.start();
    $("enrol-camera-state").textContent = "请将商户管理员屏幕上的激活二维码对准取景框";
    $("enrol-camera-start").hidden = true;
  } catch (error) {
    $("enrol-camera").hidden = true;
    $("enrol-camera-state").textContent = `无法打开摄像头（${error.name || error}）：请手动输入激活码。`;
  }
}

function showSetup() {
  $("setup-scenario").replaceChildren(
    ...device.scenarios.map((s) => new Option(`${s.name_zh}（${s.name_en}）`, s.id, false, s.id === device.scenario)),
  );
  const rentalFields = () => {
    const chosen = device.scenarios.find((s) => s.id === $("setup-scenario").value);
    const rental = device.can_rent && Boolean(chosen?.benefit.waived_deposit_fen);
    $("setup-rental").hidden = !rental;
    $("setup-deposit").required = rental;
    if (rental && !$("setup-deposit").value) {
      $("setup-deposit").value = chosen.benefit.waived_deposit_fen[$("setup-item").value] / 100;
    }
  };
  $("setup-scenario").onchange = rentalFields;
  $("setup-item").onchange = () => {
    $("setup-deposit").value = "";
    rentalFields();
  };
  rentalFields();
  show("setup");
}

async function saveSetup(event) {
  event.preventDefault();
  const id = $("setup-scenario").value;
  try {
    device = await api("PUT", "/v1/scanner/me/scenario", { body: { scenario: id } });
    save(DEVICE, device);
    const rental = !$("setup-rental").hidden;
    settings = {
      scenario: id,
      item: rental ? $("setup-item").value : null,
      deposit_fen: rental ? Math.round(Number($("setup-deposit").value) * 100) : null,
    };
    save(SETTINGS, settings);
    start();
  } catch (error) {
    $("setup-error").textContent = error instanceof NetworkError ? "网络不可用，请联网后再保存。" : error.message;
  }
}

// --- start --------------------------------------------------------------------------------------------

const camera = new Camera($("camera"), {
  onCode: (text, frameAt) => check(text, frameAt),
  onIdle: (seconds) => {
    $("camera-state").textContent = `已扫描 ${seconds} 秒，未找到二维码：请将二维码完整放入取景框并保持稳定，光线暗时打开手电筒。`;
  },
});

async function startCamera() {
  $("camera-state").textContent = "正在打开摄像头…";
  try {
    await camera.start();
    $("camera-state").textContent = `请将信用码对准取景框（${camera.decoder.kind}）`;
    $("camera-start").hidden = true;
    $("torch").hidden = !camera.hasTorch;
  } catch (error) {
    $("camera-state").textContent = `无法打开摄像头（${error.name || error}）：请允许使用摄像头，或手动输入码。`;
  }
}

function start() {
  renderStatus();
  if (!credential.get() || !device) return show("enrol");
  if (!settings || !scenario()) return showSetup();
  $("device-line").hidden = false;
  $("device-line").textContent = `${device.partner.name} · ${device.name} · ${scenario().name_zh}`;
  show("scanner", "rentals", "settings");
  renderRentals();
  sync();
}

$("enrol-form").addEventListener("submit", enrol);
$("enrol-camera-start").addEventListener("click", startEnrolCamera);
$("setup-form").addEventListener("submit", saveSetup);
$("camera-start").addEventListener("click", startCamera);
$("torch").addEventListener("click", async () => {
  const on = $("torch").getAttribute("aria-pressed") !== "true";
  await camera.setTorch(on);
  $("torch").setAttribute("aria-pressed", String(on));
  $("torch").textContent = on ? "关闭手电筒" : "打开手电筒";
});
$("manual-form").addEventListener("submit", (event) => {
  event.preventDefault();
  check($("manual-code").value);
  $("manual-code").value = "";
});
$("next-scan").addEventListener("click", () => {
  show("scanner", "rentals", "settings");
  renderRentals();
  camera.resume();
});
$("rent-open").addEventListener("click", openRental);
$("change-scenario").addEventListener("click", showSetup);
$("forget-device").addEventListener("click", () => {
  if (offline.pendingUses() && !confirm("还有离线核验未上报，注销后将丢失。确定注销？")) return;
  forgetDevice();
  start();
});
window.addEventListener("online", sync);
window.addEventListener("offline", renderStatus);
setInterval(sync, REFRESH_MS);
start();
