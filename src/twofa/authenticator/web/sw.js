// Service worker: keeps the app shell cached so codes work offline. The device API is never
// cached; it always goes to the network.

const VERSION = "twofa-authenticator-v2";
const SHELL = [
  "./", "index.html", "styles.css", "app.js", "api.js", "codes.js", "db.js", "joining.js",
  "keys.js", "lists.js", "register.js", "requests.js", "stream.js", "totp.js", "ui.js",
  "manifest.webmanifest", "icons/icon.svg", "icons/icon-192.png", "icons/icon-512.png",
  "icons/maskable-512.png",
];
const SCOPE = new URL("./", self.location).pathname;

self.addEventListener("install", (event) => {
  event.waitUntil((async () => {
    const cache = await caches.open(VERSION);
    await cache.addAll(SHELL.map((path) => new Request(path, { cache: "reload" })));
    await self.skipWaiting();
  })());
});

self.addEventListener("activate", (event) => {
  event.waitUntil((async () => {
    for (const name of await caches.keys()) {
      if (name.startsWith("twofa-authenticator-") && name !== VERSION) await caches.delete(name);
    }
    await self.clients.claim();
  })());
});

// Stale-while-revalidate for the shell: instant (and offline) start, fresh files next load.
self.addEventListener("fetch", (event) => {
  const request = event.request;
  const url = new URL(request.url);
  if (request.method !== "GET" || url.origin !== self.location.origin
      || !url.pathname.startsWith(SCOPE) || url.pathname.endsWith("/sw.js")) {
    return;
  }
  event.respondWith((async () => {
    const cache = await caches.open(VERSION);
    const key = request.mode === "navigate" ? "index.html" : request;
    const cached = await cache.match(key, { ignoreSearch: true });
    const network = fetch(request).then((response) => {
      if (response.ok && response.type === "basic") cache.put(key, response.clone());
      return response;
    });
    if (cached) {
      event.waitUntil(network.catch(() => {}));
      return cached;
    }
    return network;
  })());
});
