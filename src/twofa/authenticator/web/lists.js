// History of answered requests and the phone's devices (with revoke).

import * as api from "./api.js";
import { avatar, clear, confirmDialog, formatWhen, fullDate, h, icons, toast } from "./ui.js";

const STATUS_LABEL = { approved: "Approved", denied: "Denied", expired: "Expired" };

function empty(icon, title, text) {
  return h("li", { class: "empty" }, h("span", { class: "empty-icon", html: icon }),
    h("strong", {}, title), h("span", { class: "muted" }, text));
}

function failed(list, error) {
  clear(list).append(empty(icons.cross, "Could not load",
    error instanceof api.ApiError && error.offline ? "You are offline." : error.message));
}

export async function renderHistory(list, device) {
  let requests;
  try {
    ({ requests } = await api.history(device));
  } catch (error) {
    failed(list, error);
    return;
  }
  clear(list);
  if (!requests.length) {
    list.append(empty(icons.history, "Nothing yet", "Requests you approve or deny show up here."));
    return;
  }
  for (const request of requests) {
    list.append(h("li", { class: "item", dataset: { uuid: request.uuid, status: request.status } },
      avatar(request.app_name, request.logos),
      h("div", { class: "item-main" },
        h("span", { class: "item-title" }, request.app_name),
        h("span", { class: "item-sub" }, request.message),
        h("time", { class: "item-meta", datetime: new Date(request.created_at * 1000).toISOString(),
          title: fullDate(request.created_at) }, formatWhen(request.created_at))),
      h("span", { class: `pill ${request.status}` }, STATUS_LABEL[request.status] || request.status)));
  }
}

export async function renderDevices(list, device, { onRevokedSelf }) {
  let devices;
  try {
    ({ devices } = await api.devices(device));
  } catch (error) {
    failed(list, error);
    return;
  }
  clear(list);
  devices.sort((a, b) => Number(b.current) - Number(a.current) || b.created_at - a.created_at);
  for (const item of devices) {
    const revoke = h("button", { class: "button small danger-outline", type: "button",
      "aria-label": `Revoke ${item.name}${item.current ? " (this device)" : ""}`,
      onclick: async () => {
        const ok = await confirmDialog({
          title: item.current ? "Remove this device?" : `Revoke “${item.name}”?`,
          body: item.current
            ? "This browser will stop receiving requests and its key is deleted. You can register it again later."
            : "It will no longer show codes or approve logins for this phone number.",
          confirm: item.current ? "Remove" : "Revoke", danger: true });
        if (!ok) return;
        revoke.disabled = true;
        try {
          await api.revoke(device, item.uuid);
        } catch (error) {
          revoke.disabled = false;
          toast(`Could not revoke: ${error.message}`, "danger");
          return;
        }
        if (item.current) {
          onRevokedSelf();
          return;
        }
        toast(`${item.name} was revoked.`);
        renderDevices(list, device, { onRevokedSelf });
      } }, "Revoke");
    const seen = item.current ? "Active now" : item.last_seen_at
      ? `Last seen ${formatWhen(item.last_seen_at)}` : "Never used";
    list.append(h("li", { class: "item", dataset: { uuid: item.uuid } },
      h("span", { class: "device-icon", html: item.os_type === "cli" ? icons.terminal : icons.devices }),
      h("div", { class: "item-main" },
        h("span", { class: "item-title" }, item.name),
        h("span", { class: "item-sub" },
          `${item.os_type === "cli" ? "Command line" : "Web"} · added ${formatWhen(item.created_at)}`),
        h("span", { class: "item-meta" },
          item.current ? h("span", { class: "badge" }, "This device") : null, seen)),
      revoke));
  }
}
