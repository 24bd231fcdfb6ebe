// The public API from the page: the access token only in memory, the refresh token in an HttpOnly cookie
// (cookie mode of /v1/auth), refreshed before it expires and once on a 401. Refreshes are serialised across
// tabs with the Web Locks API where the browser has it: two tabs trading one refresh token at once would
// look like a stolen token to the server, which then ends the sign-in.

let accessToken = null;
let refreshTimer = null;
let language = "zh";
const signedOutListeners = [];

export class ApiError extends Error {
  constructor(status, problem) {
    super(problem.detail || problem.title || String(status));
    this.status = status;
    this.code = problem.code || "";
    this.param = problem.param || null;
  }
}

export function setLanguage(lang) { language = lang; }

// The server's time, from the Date header of its latest answer plus the monotonic time since: dates the
// page works out (a consent's end, whether an offline code expired) follow the server, not the phone.
let serverDate = null;
function noteDate(response) {
  const header = Date.parse(response.headers.get("Date") || "");
  if (Number.isNaN(header)) return;
  serverDate = { at: performance.now(), value: header };
  localStorage.setItem("xinyi.clock_offset", String(header - Date.now()));
}
export function serverNow() {
  if (serverDate) return serverDate.value + (performance.now() - serverDate.at);
  return Date.now() + Number(localStorage.getItem("xinyi.clock_offset") || 0);
}
export function signedIn() { return accessToken !== null; }
export function onSignedOut(listener) { signedOutListeners.push(listener); }

function schedule(expiresIn) {
  clearTimeout(refreshTimer);
  // A minute before expiry (relative time: the phone's clock need not agree with the server's)
  refreshTimer = setTimeout(() => refresh().catch(() => {}), Math.max(5, expiresIn - 60) * 1000);
}

function accept(pair) {
  accessToken = pair.access_token;
  schedule(pair.expires_in);
  return pair;
}

function dropSession() {
  accessToken = null;
  clearTimeout(refreshTimer);
  for (const listener of signedOutListeners) listener();
}

async function post(path, body) {
  const response = await fetch(path, {
    method: "POST",
    headers: { "Content-Type": "application/json", "Accept-Language": language },
    body: JSON.stringify(body),
    credentials: "same-origin",
  });
  noteDate(response);
  if (response.status === 204) return null;
  const data = await response.json();
  if (!response.ok) throw new ApiError(response.status, data);
  return data;
}

async function withLock(task) {
  if (navigator.locks) return navigator.locks.request("xinyi-refresh", task);
  return task();
}

let refreshing = null;

/** Trade the refresh cookie for a new access token; false when there is no sign-in to resume. Calls made
 * while one is under way share it (without Web Locks, two would present the same cookie). */
export function refresh() {
  refreshing ??= rotate().finally(() => { refreshing = null; });
  return refreshing;
}

async function rotate() {
  return withLock(async () => {
    try {
      accept(await post("/v1/auth/refresh", {}));
      return true;
    } catch (error) {
      if (error instanceof ApiError && error.status === 401) {
        dropSession();
        return false;
      }
      throw error;
    }
  });
}

export function requestCode(phone) { return post("/v1/auth/otp", { phone }); }

// ``challenge``: what requestCode answered with; the code is accepted only together with it.
export async function signIn(phone, code, challenge) {
  return withLock(async () => accept(await post("/v1/auth/token", { phone, code, challenge, cookie: true })));
}

export async function signOut() {
  try { await post("/v1/auth/logout", {}); } finally { dropSession(); }
}

/** A call to the API as the signed-in user: JSON in (``json``) or a form (``form``), JSON or text out;
 * ``headers`` adds some (an Idempotency-Key, say). Shared with the consoles (/console). */
export async function api(path, { method = "GET", json, form, as = "json", headers: extra = {}, retried = false } = {}) {
  const headers = { ...extra, "Accept-Language": language };
  if (accessToken) headers.Authorization = `Bearer ${accessToken}`;
  let body;
  if (json !== undefined) { headers["Content-Type"] = "application/json"; body = JSON.stringify(json); }
  if (form !== undefined) body = form;
  const response = await fetch(path, { method, headers, body, credentials: "same-origin" });
  noteDate(response);
  if (response.status === 401 && !retried && (await refresh())) {
    return api(path, { method, json, form, as, headers: extra, retried: true });
  }
  if (!response.ok) {
    let problem = {};
    try { problem = await response.json(); } catch { /* not a problem document */ }
    throw new ApiError(response.status, problem);
  }
  if (response.status === 204) return null;
  if (as === "blob") return response.blob();
  if (as === "text") return response.text();
  return response.json();
}

/**
 * Server-sent events of ``path`` read with fetch (EventSource cannot send the Authorization header).
 * Calls ``onEvent(type, data)``; reconnects with Last-Event-ID after an end or a network error until
 * ``signal`` aborts.
 */
export async function stream(path, onEvent, signal, onState = () => {}) {
  let lastId = null;
  let delay = 1000;
  while (!signal.aborted && accessToken) {
    try {
      const headers = { Authorization: `Bearer ${accessToken}`, Accept: "text/event-stream" };
      if (lastId) headers["Last-Event-ID"] = lastId;
      const response = await fetch(path, { headers, signal });
      if (response.status === 401) { if (!(await refresh())) return; continue; }
      if (!response.ok || !response.body) throw new Error(String(response.status));
      onState(true);
      delay = 1000;
      const reader = response.body.pipeThrough(new TextDecoderStream()).getReader();
      let buffer = "";
      for (;;) {
        const { value, done } = await reader.read();
        if (done) break;
        buffer += value;
        let end;
        while ((end = buffer.indexOf("\n\n")) >= 0) {
          const block = buffer.slice(0, end);
          buffer = buffer.slice(end + 2);
          let type = "message";
          const data = [];
          for (const line of block.split("\n")) {
            if (line.startsWith("id:")) lastId = line.slice(3).trim();
            else if (line.startsWith("event:")) type = line.slice(6).trim();
            else if (line.startsWith("data:")) data.push(line.slice(5).trimStart());
          }
          if (data.length) onEvent(type, JSON.parse(data.join("\n")));
        }
      }
    } catch (error) {
      if (signal.aborted) return;
      onState(false);
    }
    await new Promise((resolve) => setTimeout(resolve, delay));
    delay = Math.min(delay * 2, 30000);
  }
}
