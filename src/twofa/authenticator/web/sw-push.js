// Web Push in the service worker: a wake-up ({"t": "request", "uuid"} or {"t": "ended",
// "uuid"}) carries nothing private, so the worker asks the provider itself, with a request
// signed by the device key from IndexedDB, and shows one notification per pending request.
// A device notice ({"t": "device", "event": "pending" | "added" | "denied" | "revoked",
// "uuid"}: a device of this phone asks to join, was added, denied or revoked) is shown the same
// way, with the device's name when the provider still lists it.
//
// A classic script (importScripts), not an ES module: module service workers are not
// available in every browser the app supports, so the few lines of signing that keys.js and
// api.js hold for the page are repeated here.

const PUSH_DB = "twofa-authenticator";
const PUSH_STORE = "kv";
const PUSH_API = "/device/v1";
const GENERIC_TITLE = "Sign-in request";
const GENERIC_BODY = "You have a sign-in request";
const ICON = "icons/icon-192.png";
// What a device notice says; the body when the device's name cannot be had.
const DEVICE_NOTICES = {
  pending: { title: "A new device asks to join",
    body: "A new device asks to join your phone. Open twofa to answer.",
    named: (device) => `“${device.name}” (${device.os_type}) asks to join your phone. `
      + "Open twofa to answer." },
  added: { title: "Device added",
    body: "A device was added to your phone. If this was not you, revoke it in twofa.",
    named: (device) => `“${device.name}” was added to your phone. If this was not you, `
      + "revoke it in twofa." },
  revoked: { title: "Device removed", body: "A device was removed from your phone." },
};
let pushClockOffsetMs = 0;

function pushDbGet(key) {
  return new Promise((resolve, reject) => {
    const opening = indexedDB.open(PUSH_DB, 1);
    opening.onupgradeneeded = () => opening.result.createObjectStore(PUSH_STORE);
    opening.onerror = () => reject(opening.error);
    opening.onsuccess = () => {
      const db = opening.result;
      const tx = db.transaction(PUSH_STORE, "readonly");
      const request = tx.objectStore(PUSH_STORE).get(key);
      tx.oncomplete = () => { db.close(); resolve(request.result); };
      tx.onerror = () => { db.close(); reject(tx.error); };
    };
  });
}

function pushB64url(bytes) {
  let binary = "";
  for (const byte of new Uint8Array(bytes)) binary += String.fromCharCode(byte);
  return btoa(binary).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
}

/** The signed text of device-api.md section 2; keep in step with keys.js canonicalRequest. */
function pushCanonical(method, path, deviceUuid, timestamp, nonce, bodyHash) {
  return [method.toUpperCase(), self.location.hostname.toLowerCase(), path, deviceUuid,
    String(timestamp), nonce, bodyHash].join("\n");
}

async function pushSigned(device, method, path, body) {
  const encoder = new TextEncoder();
  const timestamp = String(Math.floor((Date.now() + pushClockOffsetMs) / 1000));
  const nonce = pushB64url(crypto.getRandomValues(new Uint8Array(18)));
  const digest = await crypto.subtle.digest("SHA-256", encoder.encode(body || ""));
  const bodyHash = Array.from(new Uint8Array(digest),
    (b) => b.toString(16).padStart(2, "0")).join("");
  const text = pushCanonical(method, path, device.uuid, timestamp, nonce, bodyHash);
  const signature = await crypto.subtle.sign({ name: "ECDSA", hash: "SHA-256" },
    device.privateKey, encoder.encode(text));
  const headers = { Accept: "application/json", "X-Twofa-Device": device.uuid,
    "X-Twofa-Timestamp": timestamp, "X-Twofa-Nonce": nonce,
    "X-Twofa-Signature": pushB64url(signature) };
  if (body) headers["Content-Type"] = "application/json";
  return fetch(path, { method, headers, body: body || undefined, cache: "no-store",
    credentials: "omit" });
}

/** A signed call, retried once on the provider's clock if ours was too far off. */
async function pushCall(device, method, path, body) {
  let response = await pushSigned(device, method, path, body);
  const date = Date.parse(response.headers.get("Date") || "");
  if (response.status === 401 && !Number.isNaN(date)) {
    pushClockOffsetMs = date + 500 - Date.now();
    response = await pushSigned(device, method, path, body);
  }
  return response;
}

/** The pending requests, or null when they cannot be had (offline, revoked, no device). */
async function pendingRequests() {
  const device = await pushDbGet("device");
  if (!device) return null;
  const response = await pushCall(device, "GET", `${PUSH_API}/requests`);
  if (!response.ok) return null;
  const body = await response.json();
  return Array.isArray(body.requests) ? body.requests : null;
}

/** Close request notifications whose uuid ``keep`` refuses (device notices stay). */
async function closeNotifications(keep) {
  for (const notification of await self.registration.getNotifications()) {
    const data = notification.data || {};
    if (data.kind !== "device" && data.uuid && !keep(data.uuid)) notification.close();
  }
}

/** The tag of a device notice: one per device and event, so each shows once. */
function deviceTag(event, uuid) {
  return `device-${event}:${uuid}`;
}

/**
 * The device a notice is about, from the provider's lists (signed): a device asking to join
 * from GET /devices/pending, an added one from GET /devices. Null when the provider cannot
 * be asked; undefined when it no longer lists the device.
 */
async function noticedDevice(event, uuid) {
  const path = { pending: "/devices/pending", added: "/devices" }[event];
  const device = path ? await pushDbGet("device") : null;
  if (!device) return null;
  const response = await pushCall(device, "GET", `${PUSH_API}${path}`);
  if (!response.ok) return null;
  const body = await response.json();
  return Array.isArray(body.devices) ? body.devices.find((d) => d.uuid === uuid) : null;
}

async function onDeviceNotice(event, uuid) {
  if (!uuid || !["pending", "added", "denied", "revoked"].includes(event)) return;
  // However a device's request to join ended, its "asks to join" notification is done.
  if (event !== "pending") {
    const asked = await self.registration.getNotifications({ tag: deviceTag("pending", uuid) });
    for (const notification of asked) notification.close();
  }
  const notice = DEVICE_NOTICES[event];
  if (!notice) return; // denied: nothing more to say
  let device = null;
  try {
    device = await noticedDevice(event, uuid);
  } catch {
    device = null;
  }
  if (event === "pending" && device === undefined) return; // answered or expired meanwhile
  const url = event === "pending" ? `./?device=${encodeURIComponent(uuid)}` : "./?view=devices";
  await self.registration.showNotification(notice.title, {
    body: device && notice.named ? notice.named(device) : notice.body,
    tag: deviceTag(event, uuid), requireInteraction: event === "pending", icon: ICON,
    badge: ICON, data: { kind: "device", event, uuid, url },
  });
}

/**
 * Every wake-up ends with the notifications matching the provider's pending list: an "ended"
 * one closes its request's notification first, and, since a newer wake-up replaces an
 * undelivered older one (they share a Topic), any request still pending is shown too.
 */
async function onPush(message) {
  const kind = message && message.t;
  const uuid = message && typeof message.uuid === "string" ? message.uuid : null;
  if (kind === "device") {
    await onDeviceNotice(message.event, uuid);
    return;
  }
  if (kind === "ended" && uuid) await closeNotifications((other) => other !== uuid);
  let requests = null;
  try {
    requests = await pendingRequests();
  } catch {
    requests = null;
  }
  if (requests === null) {
    if (kind !== "request") return;
    await self.registration.showNotification(GENERIC_TITLE, { body: GENERIC_BODY,
      tag: uuid || "twofa-request", requireInteraction: true, icon: ICON, badge: ICON,
      data: { kind: "request", uuid,
        url: uuid ? `./?request=${encodeURIComponent(uuid)}` : "./" } });
    return;
  }
  const pending = new Set(requests.map((request) => request.uuid));
  await closeNotifications((other) => pending.has(other));
  const shown = new Set((await self.registration.getNotifications())
    .map((notification) => notification.tag));
  for (const request of requests) {
    if (shown.has(request.uuid)) continue; // already on screen: do not alert again
    await self.registration.showNotification(request.app_name || GENERIC_TITLE, {
      body: request.message || GENERIC_BODY, tag: request.uuid, requireInteraction: true,
      icon: ICON, badge: ICON, timestamp: (request.created_at || 0) * 1000,
      data: { kind: "request", uuid: request.uuid,
        url: `./?request=${encodeURIComponent(request.uuid)}` },
    });
  }
}

self.addEventListener("push", (event) => {
  let message = null;
  try {
    message = event.data ? event.data.json() : null;
  } catch {
    message = null;
  }
  event.waitUntil(onPush(message));
});

// Clicking opens the request's card (or the join card, or the devices list): in an open
// window if there is one, else a new one.
self.addEventListener("notificationclick", (event) => {
  event.notification.close();
  const data = event.notification.data || {};
  event.waitUntil((async () => {
    const url = new URL(data.url || "./", self.registration.scope).href;
    const windows = await self.clients.matchAll({ type: "window", includeUncontrolled: true });
    const open = windows.find((client) => client.url.startsWith(self.registration.scope));
    if (open) {
      open.postMessage(data.kind === "device"
        ? { type: "open-device", uuid: data.uuid, event: data.event }
        : { type: "open-request", uuid: data.uuid });
      await open.focus();
      return;
    }
    await self.clients.openWindow(url);
  })());
});

// The browser renewed the subscription on its own: tell the provider, as a start would.
self.addEventListener("pushsubscriptionchange", (event) => {
  event.waitUntil((async () => {
    if (!(await pushDbGet("notifications"))) return;
    const device = await pushDbGet("device");
    const options = event.oldSubscription && event.oldSubscription.options;
    if (!device || !options) return;
    const renewed = event.newSubscription
      || await self.registration.pushManager.subscribe(options);
    await pushCall(device, "PUT", `${PUSH_API}/webpush/subscription`,
      JSON.stringify(renewed.toJSON()));
  })());
});
