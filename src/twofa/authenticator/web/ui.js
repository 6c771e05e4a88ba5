// DOM helpers, icons and formatting shared by the screens. Text always goes in as textContent.

export function h(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [name, value] of Object.entries(attrs || {})) {
    if (value === null || value === undefined || value === false) continue;
    if (name === "class") node.className = value;
    else if (name === "dataset") Object.assign(node.dataset, value);
    else if (name.startsWith("on")) node.addEventListener(name.slice(2).toLowerCase(), value);
    else if (name === "html") node.innerHTML = value; // constant markup (icons) only
    else node.setAttribute(name, value === true ? "" : String(value));
  }
  for (const child of children.flat()) {
    if (child === null || child === undefined || child === false) continue;
    node.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return node;
}

const svg = (body) => `<svg viewBox="0 0 24 24" width="24" height="24" aria-hidden="true" focusable="false" fill="none" stroke="currentColor" stroke-width="1.8" stroke-linecap="round" stroke-linejoin="round">${body}</svg>`;

export const icons = {
  codes: svg('<rect x="4" y="10" width="16" height="10" rx="2.5"/><path d="M8 10V7a4 4 0 0 1 8 0v3"/><circle cx="12" cy="15" r="1.3"/>'),
  history: svg('<circle cx="12" cy="12" r="8.5"/><path d="M12 7.5V12l3 2"/>'),
  devices: svg('<rect x="7" y="3" width="10" height="18" rx="2.5"/><path d="M11 18h2"/>'),
  terminal: svg('<rect x="3" y="5" width="18" height="14" rx="2.5"/><path d="m7 10 3 2-3 2M12 15h5"/>'),
  copy: svg('<rect x="8" y="8" width="12" height="12" rx="2.5"/><path d="M16 8V6a2 2 0 0 0-2-2H6a2 2 0 0 0-2 2v8a2 2 0 0 0 2 2h2"/>'),
  check: svg('<path d="m5 12.5 4.5 4.5L19 7.5"/>'),
  cross: svg('<path d="M6 6l12 12M18 6 6 18"/>'),
  shield: svg('<path d="M12 3 5 6v5.5c0 4.4 3 8.2 7 9.5 4-1.3 7-5.1 7-9.5V6l-7-3Z"/><path d="m9 12 2.2 2.2L15.5 10"/>'),
  bell: svg('<path d="M6 16V11a6 6 0 0 1 12 0v5l1.5 2h-15L6 16Z"/><path d="M10 20.5a2 2 0 0 0 4 0"/>'),
};

export function clear(node) {
  while (node.firstChild) node.firstChild.remove();
  return node;
}

/** Initials avatar used when an application sent no logo (or it fails to load). */
export function avatar(name, logos) {
  const letter = (name || "?").trim().charAt(0).toUpperCase() || "?";
  const wrap = h("span", { class: "avatar", "aria-hidden": "true", dataset: { hue: String(hue(name)) } });
  wrap.style.setProperty("--hue", String(hue(name)));
  const logo = pickLogo(logos);
  if (logo) {
    const img = h("img", { src: logo, alt: "", referrerpolicy: "no-referrer", loading: "lazy",
      onerror: () => { img.remove(); wrap.textContent = letter; } });
    wrap.append(img);
  } else {
    wrap.textContent = letter;
  }
  return wrap;
}

function hue(text) {
  let value = 0;
  for (const char of text || "") value = (value * 31 + char.charCodeAt(0)) % 360;
  return value;
}

function pickLogo(logos) {
  if (!Array.isArray(logos) || !logos.length) return null;
  const order = ["med", "high", "default", "low"];
  const sorted = [...logos].sort((a, b) => order.indexOf(a.res) - order.indexOf(b.res));
  const url = sorted[0] && sorted[0].url;
  return /^https?:\/\//.test(url || "") ? url : null;
}

export function formatDuration(seconds) {
  if (seconds <= 0) return "0:00";
  if (seconds < 3600) {
    return `${Math.floor(seconds / 60)}:${String(seconds % 60).padStart(2, "0")}`;
  }
  if (seconds < 86400 * 2) return `${Math.round(seconds / 3600)} h`;
  return `${Math.round(seconds / 86400)} days`;
}

const relative = new Intl.RelativeTimeFormat(undefined, { numeric: "auto" });
const dateTime = new Intl.DateTimeFormat(undefined, { dateStyle: "medium", timeStyle: "short" });

export function formatWhen(unixSeconds, nowSeconds = Date.now() / 1000) {
  if (!unixSeconds) return "never";
  const diff = unixSeconds - nowSeconds;
  const abs = Math.abs(diff);
  if (abs < 45) return "just now";
  if (abs < 3600) return relative.format(Math.round(diff / 60), "minute");
  if (abs < 86400) return relative.format(Math.round(diff / 3600), "hour");
  if (abs < 86400 * 7) return relative.format(Math.round(diff / 86400), "day");
  return dateTime.format(new Date(unixSeconds * 1000));
}

export function fullDate(unixSeconds) {
  return unixSeconds ? dateTime.format(new Date(unixSeconds * 1000)) : "";
}

let toastTimer = null;

/** A short status message, announced politely to screen readers. */
export function toast(message, kind = "info") {
  const node = document.getElementById("toast");
  node.textContent = message;
  node.dataset.kind = kind;
  node.hidden = false;
  clearTimeout(toastTimer);
  toastTimer = setTimeout(() => { node.hidden = true; }, 4000);
}

/** A modal confirmation on <dialog>; resolves true when confirmed. */
export function confirmDialog({ title, body, confirm, danger = false }) {
  const dialog = document.getElementById("confirm");
  dialog.querySelector("h2").textContent = title;
  dialog.querySelector("p").textContent = body;
  const ok = dialog.querySelector("[value=confirm]");
  ok.textContent = confirm;
  ok.className = danger ? "button danger" : "button primary";
  dialog.returnValue = "";
  dialog.showModal();
  return new Promise((resolve) => {
    dialog.addEventListener("close", () => resolve(dialog.returnValue === "confirm"), { once: true });
  });
}

export function deviceLabel() {
  const ua = navigator.userAgent;
  const browser = /Edg\//.test(ua) ? "Edge" : /Firefox\//.test(ua) ? "Firefox"
    : /Chrom(e|ium)\//.test(ua) ? "Chrome" : /Safari\//.test(ua) ? "Safari" : "Browser";
  const os = /Android/.test(ua) ? "Android" : /iPhone|iPad/.test(ua) ? "iOS"
    : /Mac OS X/.test(ua) ? "macOS" : /Windows/.test(ua) ? "Windows"
    : /Linux/.test(ua) ? "Linux" : "";
  return os ? `${browser} on ${os}` : browser;
}
