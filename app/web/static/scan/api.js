// Same-origin calls to the public API with the device's own key; problems (RFC 9457) become ApiError.

const CREDENTIAL = "xinyi.scan.credential";

export class ApiError extends Error {
  constructor(status, problem) {
    super(problem.detail || problem.title || `HTTP ${status}`);
    this.status = status;
    this.code = problem.code || "http_" + status;
    this.problem = problem;
  }
}

// No answer at all (offline, DNS, reset): the scan may still be decided offline.
export class NetworkError extends Error {}

export const credential = {
  get: () => localStorage.getItem(CREDENTIAL),
  set: (value) => localStorage.setItem(CREDENTIAL, value),
  clear: () => localStorage.removeItem(CREDENTIAL),
};

export async function api(method, path, { body, idempotent = false, auth = true, accept } = {}) {
  const headers = { Accept: accept || "application/json" };
  if (body !== undefined) headers["Content-Type"] = "application/json";
  if (auth && credential.get()) headers.Authorization = `Bearer ${credential.get()}`;
  if (idempotent) headers["Idempotency-Key"] = crypto.randomUUID();
  let response;
  try {
    response = await fetch(path, {
      method,
      headers,
      body: body === undefined ? undefined : JSON.stringify(body),
      credentials: "omit",
      cache: "no-store",
    });
  } catch (error) {
    throw new NetworkError(String(error));
  }
  const type = response.headers.get("Content-Type") || "";
  if (!response.ok) {
    const problem = type.includes("json") ? await response.json() : { detail: await response.text() };
    throw new ApiError(response.status, problem);
  }
  return type.includes("json") ? response.json() : response.text();
}

export function yuan(fen) {
  return fen % 100 === 0 ? `${fen / 100} 元` : `${(fen / 100).toFixed(2)} 元`;
}
