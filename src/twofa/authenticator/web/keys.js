// The device key (ECDSA P-256, non-extractable) and the request signing of device-api.md §2.

const encoder = new TextEncoder();

export function base64url(bytes) {
  let binary = "";
  for (const byte of new Uint8Array(bytes)) binary += String.fromCharCode(byte);
  return btoa(binary).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
}

export function hex(bytes) {
  return Array.from(new Uint8Array(bytes), (b) => b.toString(16).padStart(2, "0")).join("");
}

export async function sha256Hex(text) {
  return hex(await crypto.subtle.digest("SHA-256", encoder.encode(text)));
}

/** 24 characters of [A-Za-z0-9_-] from 18 random bytes. */
export function newNonce() {
  return base64url(crypto.getRandomValues(new Uint8Array(18)));
}

/** A fresh key pair; the private half can sign but can never be exported. */
export function generateKeyPair() {
  return crypto.subtle.generateKey({ name: "ECDSA", namedCurve: "P-256" }, false,
    ["sign", "verify"]);
}

/** The public key as the registration expects it: {kty, crv, x, y}. */
export async function publicJwk(publicKey) {
  const { kty, crv, x, y } = await crypto.subtle.exportKey("jwk", publicKey);
  return { kty, crv, x, y };
}

/** base64url of the IEEE P1363 (r‖s) signature WebCrypto produces. */
export async function sign(privateKey, text) {
  const signature = await crypto.subtle.sign({ name: "ECDSA", hash: "SHA-256" }, privateKey,
    encoder.encode(text));
  return base64url(signature);
}

/** The text a request signature covers: METHOD, HOST, PATH?QUERY, DEVICE, TIMESTAMP, NONCE,
 * body hash. The host name (lower case, no port) and the device uuid bind the signature to
 * this provider and this device. */
export async function canonicalRequest(method, host, pathAndQuery, deviceUuid, timestamp, nonce,
  body) {
  return [method.toUpperCase(), host.toLowerCase(), pathAndQuery, deviceUuid, String(timestamp),
    nonce, await sha256Hex(body || "")].join("\n");
}

/** The four X-Twofa-* headers for one request to this page's own origin. */
export async function signedHeaders(device, method, pathAndQuery, body, timestamp) {
  const nonce = newNonce();
  const text = await canonicalRequest(method, location.hostname, pathAndQuery, device.uuid,
    timestamp, nonce, body);
  return {
    "X-Twofa-Device": device.uuid,
    "X-Twofa-Timestamp": String(timestamp),
    "X-Twofa-Nonce": nonce,
    "X-Twofa-Signature": await sign(device.privateKey, text),
  };
}

/** The decision text of device-api.md §4: uuid|approved|time[|number]. */
export function decisionText(uuid, decision, signingTime, number) {
  const parts = [uuid, decision === "approve" ? "approved" : "denied", String(signingTime)];
  if (number !== undefined && number !== null) parts.push(String(number));
  return parts.join("|");
}
