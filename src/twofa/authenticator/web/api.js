// The device API client: JSON in and out, signed requests, and the provider's clock.

import { decisionText, sign, signedHeaders } from "./keys.js";

export const API_BASE = "/device/v1";
const SIGNATURE_ERROR = "60087";

/** An API failure carrying the HTTP status and the Authy-style error code. */
export class ApiError extends Error {
  constructor(status, body) {
    super((body && (body.message || (body.errors && body.errors.message)))
      || (status ? `Request failed (${status})` : "The provider cannot be reached"));
    this.status = status;
    this.code = body && body.error_code ? String(body.error_code) : null;
  }

  get offline() {
    return this.status === 0;
  }
}

// Signatures carry a timestamp the provider accepts within 60 s; a phone with a wrong clock
// would be locked out, so requests (and codes) follow the provider's clock from its Date header.
let clockOffsetMs = 0;

export function serverNow() {
  return Date.now() + clockOffsetMs;
}

function learnClock(response) {
  const date = Date.parse(response.headers.get("Date") || "");
  if (Number.isNaN(date)) return false;
  const offset = date + 500 - Date.now();
  const before = clockOffsetMs;
  clockOffsetMs = Math.abs(offset) > 2000 ? offset : 0;
  return Math.abs(clockOffsetMs - before) > 2000;
}

export function unixNow() {
  return Math.floor(serverNow() / 1000);
}

async function send(method, path, { body, device, signal, headers = {} } = {}) {
  const text = body === undefined ? "" : JSON.stringify(body);
  const all = { Accept: "application/json", ...headers };
  if (text) all["Content-Type"] = "application/json";
  if (device) Object.assign(all, await signedHeaders(device, method, path, text, unixNow()));
  try {
    return await fetch(path, { method, headers: all, body: text || undefined, signal,
      cache: "no-store", credentials: "omit" });
  } catch (error) {
    if (error.name === "AbortError") throw error;
    throw new ApiError(0, null);
  }
}

/** One call; a signed call is retried once if the provider's clock turned out to differ. */
export async function call(method, path, options = {}) {
  let response = await send(method, path, options);
  if (learnClock(response) && options.device && response.status === 401) {
    response = await send(method, path, options);
  }
  if (options.raw) return response;
  let json = null;
  try {
    json = await response.json();
  } catch {
    json = null;
  }
  if (!response.ok || !json || json.success === false) throw new ApiError(response.status, json);
  return json;
}

export function isSignatureError(error) {
  return error instanceof ApiError && error.status === 401 && error.code === SIGNATURE_ERROR;
}

export const startRegistration = ({ countryCode, phoneNumber, via }) =>
  call("POST", `${API_BASE}/registrations`,
    { body: { country_code: countryCode, phone_number: phoneNumber, via } });

export const confirmRegistration = (registrationId, { code, name, publicKey }) =>
  call("POST", `${API_BASE}/registrations/${encodeURIComponent(registrationId)}/confirm`,
    { body: { code, name, os_type: "web", public_key: publicKey } });

export const me = (device) => call("GET", `${API_BASE}/me`, { device });
export const accounts = (device) => call("GET", `${API_BASE}/accounts`, { device });
export const pending = (device) => call("GET", `${API_BASE}/requests`, { device });
export const history = (device) => call("GET", `${API_BASE}/history`, { device });
export const devices = (device) => call("GET", `${API_BASE}/devices`, { device });
export const pendingDevices = (device) => call("GET", `${API_BASE}/devices/pending`, { device });
/** Approve a device asking to join (typing the number it shows) or deny it. */
export const decideDevice = (device, uuid, decision, number) =>
  call("POST", `${API_BASE}/devices/${encodeURIComponent(uuid)}/approval`,
    { device, body: number === undefined ? { decision } : { decision, number } });
export const revoke = (device, uuid) =>
  call("DELETE", `${API_BASE}/devices/${encodeURIComponent(uuid)}`, { device });

/** Approve or deny, signing the decision text with the device key. */
export async function decide(device, uuid, decision, number) {
  const signingTime = unixNow();
  const body = { decision, signing_time: signingTime,
    signature: await sign(device.privateKey, decisionText(uuid, decision, signingTime, number)) };
  if (number !== undefined && number !== null) body.number = number;
  return call("POST", `${API_BASE}/requests/${encodeURIComponent(uuid)}/decision`,
    { device, body });
}

/** Open the signed event stream (the caller reads the body). */
export function events(device, { lastEventId, signal }) {
  const headers = { Accept: "text/event-stream" };
  if (lastEventId) headers["Last-Event-ID"] = lastEventId;
  return call("GET", `${API_BASE}/events`, { device, signal, headers, raw: true });
}
