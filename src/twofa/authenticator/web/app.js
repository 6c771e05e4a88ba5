// Entry point: load or register the device, then run codes, live requests, history and devices.

import * as api from "./api.js";
import { CodesView } from "./codes.js";
import * as db from "./db.js";
import { JoiningView } from "./joining.js";
import { renderDevices, renderHistory } from "./lists.js";
import * as notifications from "./notifications.js";
import { runRegistration } from "./register.js";
import { RequestsView } from "./requests.js";
import { connectEvents } from "./stream.js";
import { h, icons, toast } from "./ui.js";

const DEVICE = "device";
const ACCOUNTS = "accounts";
const ACCOUNTS_REFRESH_MS = 5 * 60 * 1000;
const STATUS_TEXT = { connecting: "Connecting", live: "Live", reconnecting: "Offline",
  unauthorized: "Not accepted", paused: "Paused" };

const $ = (selector) => document.querySelector(selector);

function registerServiceWorker() {
  if ("serviceWorker" in navigator && window.isSecureContext) {
    navigator.serviceWorker.register("sw.js", { scope: "./" }).catch(() => {});
  }
}

/** +1 numbers as +1 201-555-0123; others stay in E.164 (no per-country tables shipped). */
function formatPhone(e164) {
  const nanp = /^\+1(\d{3})(\d{3})(\d{4})$/.exec(e164 || "");
  return nanp ? `+1 ${nanp[1]}-${nanp[2]}-${nanp[3]}` : e164 || "";
}

class App {
  constructor(device) {
    this.device = device;
    this.tab = "codes";
    this.codes = new CodesView($("#accounts"));
    this.joining = new JoiningView($("#device-requests"), {
      getDevice: () => this.device,
      onRemoved: (uuid) => notifications.close(`device-pending:${uuid}`).catch(() => {}),
    });
    this.requests = new RequestsView($("#requests"), {
      getDevice: () => this.device,
      onAnswered: () => this.refreshTab(),
      onRemoved: (uuid) => notifications.close(uuid).catch(() => {}),
    });
  }

  async start() {
    $("#app").hidden = false;
    document.querySelectorAll("[data-phone]").forEach((node) => {
      node.textContent = formatPhone(this.device.phone);
    });
    this.setupTabs();
    this.setupNotifications();
    this.openFromNotification();
    const cached = await db.get(ACCOUNTS);
    if (cached) this.codes.render(cached);
    this.loadAccounts();
    this.stream = connectEvents(this.device, {
      onEvent: (name, payload) => this.onEvent(name, payload),
      onState: (state) => this.onStreamState(state),
    });
    setInterval(() => {
      this.codes.tick();
      this.requests.tick();
    }, 1000);
    setInterval(() => this.loadAccounts(), ACCOUNTS_REFRESH_MS);
    document.addEventListener("visibilitychange", () => {
      if (document.visibilityState === "visible") {
        this.loadAccounts();
        if (this.streamState !== "live") this.stream.reconnectNow();
      }
    });
  }

  async loadAccounts() {
    try {
      const { accounts } = await api.accounts(this.device);
      accounts.sort((a, b) => a.app_name.localeCompare(b.app_name));
      this.codes.render(accounts);
      await db.put(ACCOUNTS, accounts);
    } catch (error) {
      if (!(await db.get(ACCOUNTS))) this.codes.render([]);
      if (api.isSignatureError(error)) this.onStreamState("unauthorized");
    }
  }

  /** The Notifications switch: its state, and turning it on (a user gesture) or off. */
  async setupNotifications() {
    const toggle = $("#notify-switch");
    const help = $("#notify-help");
    const render = async () => {
      const support = notifications.support();
      toggle.checked = await notifications.enabled();
      toggle.disabled = support !== "ok";
      if (support === "unsupported") {
        help.textContent = notifications.needsHomeScreen()
          ? "On iPhone and iPad, add this app to the Home Screen first, then open it from there."
          : "This browser cannot show notifications for this app.";
      } else if (support === "denied") {
        help.textContent = "Notifications are blocked for this site in the browser's settings.";
      } else {
        help.textContent = toggle.checked
          ? "On: sign-in requests reach this device while the app is closed."
          : "Hear of a sign-in request while this app is closed.";
      }
    };
    toggle.addEventListener("change", async () => {
      const wanted = toggle.checked;
      toggle.disabled = true;
      try {
        if (wanted) await notifications.enable(this.device);
        else await notifications.disable(this.device);
        toast(wanted ? "Notifications are on." : "Notifications are off.", "success");
      } catch (error) {
        toast(`Could not change notifications: ${error.message}`, "danger");
      }
      await render();
    });
    await render();
    notifications.refresh(this.device);
  }

  /**
   * Opened from a notification (./?request=<uuid>, ./?device=<uuid> for a device asking to
   * join, ./?view=devices after one was added or removed), or told so by the service worker.
   */
  openFromNotification() {
    const params = new URLSearchParams(location.search);
    if (params.get("request")) this.requests.reveal(params.get("request"));
    else if (params.get("device")) this.joining.reveal(params.get("device"));
    else if (params.get("view") === "devices") this.show("devices");
    if (location.search) history.replaceState(null, "", location.pathname);
    if ("serviceWorker" in navigator) {
      navigator.serviceWorker.addEventListener("message", (event) => {
        const message = event.data || {};
        if (message.type === "open-request") this.requests.reveal(String(message.uuid));
        else if (message.type === "open-device" && message.event === "pending") {
          this.joining.reveal(String(message.uuid));
        } else if (message.type === "open-device") this.show("devices");
      });
    }
  }

  onEvent(name, payload) {
    if (name === "request") this.requests.upsert(payload);
    else if (name === "request.ended") this.requests.ended(payload);
    else if (name === "revoked") this.forget("This device was revoked.");
    else if (name === "accounts.changed") this.loadAccounts(); // secrets were rotated
    else if (name === "device.request") this.joining.upsert(payload);
    else if (name === "device.ended") this.joining.ended(payload);
    else if (name === "device.added" || name === "device.revoked") {
      if (payload.uuid !== this.device.uuid) {
        toast(`Device “${payload.name}” was ${name === "device.added" ? "added" : "revoked"}.`);
      }
      if (this.tab === "devices") this.refreshTab();
    }
  }

  async onStreamState(state) {
    this.streamState = state;
    const badge = $(".status");
    badge.dataset.status = state;
    $("[data-status-text]").textContent = STATUS_TEXT[state] || state;
    const banner = $("#banner");
    if (state === "unauthorized") {
      banner.hidden = false;
      banner.dataset.kind = "danger";
      banner.replaceChildren(
        h("span", {}, "The provider no longer accepts this device. It may have been revoked."),
        h("button", { class: "button small", type: "button",
          onclick: () => this.forget() }, "Register again"));
    } else if (state === "paused") {
      banner.hidden = false;
      banner.dataset.kind = "warning";
      banner.replaceChildren(
        h("span", {}, "Live updates paused: this device is listening in too many places."),
        h("button", { class: "button small", type: "button",
          onclick: () => this.stream.reconnectNow() }, "Resume here"));
    } else if (state === "reconnecting" && !navigator.onLine) {
      banner.hidden = false;
      banner.dataset.kind = "warning";
      banner.replaceChildren(h("span", {}, "You are offline. Codes still work; requests arrive when you reconnect."));
    } else if (state === "live") {
      banner.hidden = true;
      const startedAt = api.unixNow();
      try {
        const { requests } = await api.pending(this.device);
        this.requests.sync(requests, startedAt);
        this.joining.sync((await api.pendingDevices(this.device)).devices);
      } catch {
        // the stream already delivered the pending requests; this only prunes stale cards
      }
    }
  }

  setupTabs() {
    const tabs = document.querySelectorAll("[data-tab]");
    const labels = { codes: "Codes", history: "History", devices: "Devices" };
    tabs.forEach((tab) => {
      tab.replaceChildren(h("span", { html: icons[tab.dataset.tab] }), h("span", {}, labels[tab.dataset.tab]));
      tab.addEventListener("click", () => this.show(tab.dataset.tab));
    });
  }

  show(name) {
    this.tab = name;
    document.querySelectorAll("[data-tab]").forEach((tab) => {
      if (tab.dataset.tab === name) tab.setAttribute("aria-current", "page");
      else tab.removeAttribute("aria-current");
    });
    document.querySelectorAll(".panel").forEach((panel) => {
      panel.hidden = panel.id !== `panel-${name}`;
    });
    this.refreshTab();
  }

  refreshTab() {
    if (this.tab === "history") renderHistory($("#history"), this.device);
    if (this.tab === "devices") {
      renderDevices($("#devices"), this.device, { onRevokedSelf: () => this.forget() });
    }
  }

  /** Delete the key and cached accounts from this browser and start over. */
  async forget(message) {
    if (this.stream) this.stream.stop();
    await db.clear();
    if (message) sessionStorage.setItem("twofa.notice", message);
    location.reload();
  }
}

async function main() {
  registerServiceWorker();
  let device = await db.get(DEVICE);
  $("#loading").hidden = true;
  const notice = sessionStorage.getItem("twofa.notice");
  if (notice) {
    sessionStorage.removeItem("twofa.notice");
    toast(notice);
  }
  if (!device) {
    const root = $("#register");
    root.hidden = false;
    device = await runRegistration(root);
    await db.put(DEVICE, device);
    root.hidden = true;
    toast("This device is ready.", "success");
  }
  await new App(device).start();
}

main().catch((error) => {
  $("#loading").hidden = true;
  document.body.append(h("p", { class: "fatal", role: "alert" },
    `The authenticator could not start: ${error.message}`));
});
