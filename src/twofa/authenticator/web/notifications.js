// The "Notifications" switch: Web Push so that a request reaches this device while the app is
// closed. The provider only ever sends a wake-up; the service worker (sw.js) fetches the
// pending requests itself, signed with the device key, and shows them.

import * as api from "./api.js";
import * as db from "./db.js";

const WANTED = "notifications"; // IndexedDB: true once the user turned notifications on

/** What this browser can do: "ok", "unsupported" (no Push API here) or "denied". */
export function support() {
  if (!window.isSecureContext || !("serviceWorker" in navigator) || !("PushManager" in window)
      || !("Notification" in window)) {
    return "unsupported";
  }
  return Notification.permission === "denied" ? "denied" : "ok";
}

/** True when iOS/iPadOS Safari runs the app in a tab: Web Push needs the Home Screen app. */
export function needsHomeScreen() {
  const ios = /iPad|iPhone|iPod/.test(navigator.userAgent)
    || (navigator.platform === "MacIntel" && navigator.maxTouchPoints > 1);
  return ios && !window.matchMedia("(display-mode: standalone)").matches;
}

function keyBytes(base64url) {
  const text = atob(base64url.replace(/-/g, "+").replace(/_/g, "/"));
  return Uint8Array.from(text, (char) => char.charCodeAt(0));
}

function sameKey(subscription, key) {
  const current = subscription.options && subscription.options.applicationServerKey;
  if (!current) return true; // browsers that do not expose it: trust the provider's 404/410
  const a = new Uint8Array(current);
  return a.length === key.length && a.every((byte, i) => byte === key[i]);
}

async function subscription(create) {
  const registration = await navigator.serviceWorker.ready;
  let current = await registration.pushManager.getSubscription();
  if (!create) return current;
  const { public_key: publicKey } = await api.call("GET", `${api.API_BASE}/webpush/key`);
  const key = keyBytes(publicKey);
  if (current && !sameKey(current, key)) {
    await current.unsubscribe();
    current = null;
  }
  return current || registration.pushManager.subscribe({ userVisibleOnly: true,
    applicationServerKey: key });
}

/** Whether notifications are on for this device (the user's choice and the permission). */
export async function enabled() {
  return support() === "ok" && Notification.permission === "granted"
    && Boolean(await db.get(WANTED));
}

/**
 * Turn notifications on. Call straight from a click: browsers grant the permission prompt
 * only to a user gesture, so nothing may be awaited before it.
 */
export async function enable(device) {
  const permission = await Notification.requestPermission();
  if (permission !== "granted") {
    throw new Error(permission === "denied"
      ? "Notifications are blocked for this site in the browser's settings."
      : "Notifications were not allowed.");
  }
  const current = await subscription(true);
  await api.call("PUT", `${api.API_BASE}/webpush/subscription`,
    { device, body: current.toJSON() });
  await db.put(WANTED, true);
}

/** Turn notifications off: the provider forgets the subscription, the browser drops it. */
export async function disable(device) {
  await db.put(WANTED, false);
  await api.call("DELETE", `${api.API_BASE}/webpush/subscription`, { device });
  const current = await subscription(false);
  if (current) await current.unsubscribe();
  await closeAll();
}

/** On every start: send the (possibly renewed) subscription again; quiet on failure. */
export async function refresh(device) {
  if (!(await enabled())) return;
  try {
    const current = await subscription(true);
    await api.call("PUT", `${api.API_BASE}/webpush/subscription`,
      { device, body: current.toJSON() });
  } catch {
    // offline or the provider refused: the next start tries again
  }
}

/** Close the notification of a request that was answered or ended. */
export async function close(uuid) {
  if (!("serviceWorker" in navigator)) return;
  const registration = await navigator.serviceWorker.getRegistration();
  if (!registration || !registration.getNotifications) return;
  for (const notification of await registration.getNotifications({ tag: uuid })) {
    notification.close();
  }
}

async function closeAll() {
  const registration = await navigator.serviceWorker.getRegistration();
  if (!registration) return;
  for (const notification of await registration.getNotifications()) notification.close();
}
