// Offline checks in the page: the JWKS and the signed deny list kept in localStorage, offline codes
// verified with WebCrypto (Ed25519), uses queued and reported when the network is back.

import { api } from "./api.js";

const JWKS = "xinyi.scan.jwks";
const DENY = "xinyi.scan.denylist";
const QUEUE = "xinyi.scan.queue";
const USED = "xinyi.scan.used";
export const LEEWAY_SECONDS = 30; // the platform's leeway on nbf/exp (app/passes/tokens.py)

const load = (key, fallback) => JSON.parse(localStorage.getItem(key) || "null") ?? fallback;
const save = (key, value) => localStorage.setItem(key, JSON.stringify(value));
const nowSeconds = () => Math.floor(Date.now() / 1000);

export function b64urlBytes(text) {
  const base64 = text.replace(/-/g, "+").replace(/_/g, "/");
  const raw = atob(base64 + "===".slice((base64.length + 3) % 4));
  return Uint8Array.from(raw, (c) => c.charCodeAt(0));
}

function bytesB64url(bytes) {
  return btoa(String.fromCharCode(...bytes)).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
}

// A compact JWS's parts, or null when it is not one.
export function parseJws(token) {
  const parts = token.split(".");
  if (parts.length !== 3) return null;
  try {
    const decode = (part) => JSON.parse(new TextDecoder().decode(b64urlBytes(part)));
    return { header: decode(parts[0]), payload: decode(parts[1]), parts };
  } catch {
    return null;
  }
}

export class SignatureError extends Error {}

async function verifyJws(jws) {
  const jwks = load(JWKS, null);
  const jwk = jwks && jwks.keys.find((k) => k.kid === jws.header.kid);
  if (!jwk || jws.header.alg !== "EdDSA") throw new SignatureError("unknown key");
  const key = await crypto.subtle.importKey(
    "jwk",
    { kty: "OKP", crv: "Ed25519", x: jwk.x },
    { name: "Ed25519" },
    false,
    ["verify"],
  );
  const data = new TextEncoder().encode(`${jws.parts[0]}.${jws.parts[1]}`);
  if (!(await crypto.subtle.verify({ name: "Ed25519" }, key, b64urlBytes(jws.parts[2]), data))) {
    throw new SignatureError("bad signature");
  }
}

// Refresh the keys and the deny list (the list is checked against the keys before it is kept).
export async function refresh() {
  const jwks = await api("GET", "/.well-known/jwks.json", { auth: false });
  save(JWKS, { keys: jwks.keys });
  const token = await api("GET", "/v1/offline/deny-list", { auth: false, accept: "application/jwt" });
  const jws = parseJws(token.trim());
  if (!jws) throw new SignatureError("deny list is not a JWS");
  await verifyJws(jws);
  save(DENY, jws.payload);
}

// {ageSeconds, maxAge} of the kept deny list, or null when there is none.
export function listAge() {
  const list = load(DENY, null);
  return list ? { ageSeconds: Math.max(0, nowSeconds() - list.iat), maxAge: list.max_age } : null;
}

async function denied(list, handle) {
  const key = await crypto.subtle.importKey(
    "raw",
    b64urlBytes(list.salt),
    { name: "HMAC", hash: "SHA-256" },
    false,
    ["sign"],
  );
  const mac = new Uint8Array(await crypto.subtle.sign("HMAC", key, new TextEncoder().encode(handle)));
  return list.hashes.includes(bytesB64url(mac).slice(0, 16));
}

export class OfflineRefusal extends Error {
  constructor(code) {
    super(code);
    this.code = code;
  }
}

// Decide an offline code here, without the platform. Returns nothing; throws OfflineRefusal(code).
export async function verifyOffline(jws, scenario) {
  const claims = jws.payload;
  if (!claims.sc) throw new OfflineRefusal("online_only");
  if (!scenario.low_value) throw new OfflineRefusal("scenario_needs_network");
  if (claims.sc !== scenario.id) throw new OfflineRefusal("token_scenario_mismatch");
  const list = load(DENY, null);
  if (!list || nowSeconds() - list.iat > list.max_age) throw new OfflineRefusal("deny_list_stale");
  try {
    await verifyJws(jws);
  } catch {
    throw new OfflineRefusal("token_invalid_signature");
  }
  const now = nowSeconds();
  if (now > claims.exp + LEEWAY_SECONDS) throw new OfflineRefusal("token_expired");
  if (now < claims.nbf - LEEWAY_SECONDS) throw new OfflineRefusal("token_not_yet_valid");
  const used = load(USED, {});
  if (used[claims.h] || (await denied(list, claims.h))) throw new OfflineRefusal("token_replayed");
  used[claims.h] = claims.exp;
  for (const [handle, exp] of Object.entries(used)) if (exp + LEEWAY_SECONDS < now) delete used[handle];
  save(USED, used);
  const queue = load(QUEUE, []);
  queue.push({ token: jws.parts.join("."), scenario: scenario.id, used_at: new Date().toISOString() });
  save(QUEUE, queue);
}

export const pendingUses = () => load(QUEUE, []).length;

// Report queued uses (at most 100 a call); every item is answered, so all sent leave the queue.
export async function reportUses() {
  let reported = 0;
  for (let queue = load(QUEUE, []); queue.length; queue = load(QUEUE, [])) {
    const batch = queue.slice(0, 100);
    await api("POST", "/v1/offline/reports", { body: { items: batch }, idempotent: true });
    save(QUEUE, load(QUEUE, []).slice(batch.length));
    reported += batch.length;
  }
  return reported;
}

export function forget() {
  for (const key of [JWKS, DENY, QUEUE, USED]) localStorage.removeItem(key);
}
