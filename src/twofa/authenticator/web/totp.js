// RFC 4226 HOTP and RFC 6238 TOTP on WebCrypto HMAC. Pure functions: no DOM, no storage.

const ALGORITHMS = { SHA1: "SHA-1", SHA256: "SHA-256", SHA512: "SHA-512" };
const BASE32 = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
const keyCache = new Map();

/** Decode RFC 4648 base32 (case-insensitive, padding and spaces ignored). */
export function base32Decode(text) {
  const clean = text.toUpperCase().replace(/[\s=-]/g, "");
  const out = [];
  let bits = 0;
  let value = 0;
  for (const char of clean) {
    const index = BASE32.indexOf(char);
    if (index < 0) throw new Error("invalid base32 character");
    value = (value << 5) | index;
    bits += 5;
    if (bits >= 8) {
      bits -= 8;
      out.push((value >>> bits) & 0xff);
    }
  }
  return new Uint8Array(out);
}

function hashName(algorithm) {
  const name = ALGORITHMS[(algorithm || "SHA1").toUpperCase().replace("-", "")];
  if (!name) throw new Error(`unsupported algorithm ${algorithm}`);
  return name;
}

async function hmacKey(keyBytes, algorithm) {
  const cacheKey = `${algorithm}:${Array.from(keyBytes).join(",")}`;
  let key = keyCache.get(cacheKey);
  if (!key) {
    key = await crypto.subtle.importKey(
      "raw", keyBytes, { name: "HMAC", hash: hashName(algorithm) }, false, ["sign"]);
    keyCache.set(cacheKey, key);
  }
  return key;
}

/** HOTP value for a counter (RFC 4226 section 5.3 dynamic truncation). */
export async function hotp(keyBytes, counter, { digits = 6, algorithm = "SHA1" } = {}) {
  const message = new Uint8Array(8);
  let rest = BigInt(counter);
  for (let i = 7; i >= 0; i -= 1) {
    message[i] = Number(rest & 0xffn);
    rest >>= 8n;
  }
  const key = await hmacKey(keyBytes, algorithm);
  const mac = new Uint8Array(await crypto.subtle.sign("HMAC", key, message));
  const offset = mac[mac.length - 1] & 0x0f;
  const binary = ((mac[offset] & 0x7f) << 24) | (mac[offset + 1] << 16)
    | (mac[offset + 2] << 8) | mac[offset + 3];
  return String(binary % 10 ** digits).padStart(digits, "0");
}

/** The time step for a unix time in milliseconds. */
export function timeStep(timeMs, period = 30) {
  return Math.floor(timeMs / 1000 / period);
}

/** Seconds left in the current step (1..period). */
export function secondsLeft(timeMs, period = 30) {
  return period - (Math.floor(timeMs / 1000) % period);
}

/** TOTP for a base32 secret at a unix time in milliseconds (RFC 6238). */
export async function totp(secret, { timeMs = Date.now(), period = 30, digits = 6,
  algorithm = "SHA1" } = {}) {
  const keyBytes = typeof secret === "string" ? base32Decode(secret) : secret;
  return hotp(keyBytes, timeStep(timeMs, period), { digits, algorithm });
}

/** Split a code in two groups for reading aloud: "123 456", "123 4567". */
export function groupCode(code) {
  const half = Math.floor(code.length / 2);
  return [code.slice(0, half), code.slice(half)];
}
