// Devices asking to join this phone: the user lets one in by typing the number it shows.

import { ApiError, decideDevice } from "./api.js";
import { h, toast } from "./ui.js";

export class JoiningView {
  constructor(root, { getDevice, onRemoved }) {
    this.root = root;
    this.getDevice = getDevice;
    this.onRemoved = onRemoved || (() => {});
    this.revealing = null; // a uuid to bring into view once its card exists
    this.cards = new Map(); // uuid → node
  }

  /** A device.request event (or a pending device listed on connect). */
  upsert(request) {
    if (this.cards.has(request.uuid)) return;
    const input = h("input", { class: "otp-input", name: "number", inputmode: "numeric",
      maxlength: "2", pattern: "[0-9]{2}", autocomplete: "off", "aria-label": "Number shown on the new device" });
    const error = h("p", { class: "error", role: "alert" });
    const where = request.registered_from ? ` from ${request.registered_from}` : "";
    const approve = h("button", { class: "button primary", type: "submit" }, "Approve");
    const deny = h("button", { class: "button", type: "button" }, "Deny");
    const form = h("form", { class: "card request joining", tabindex: "-1",
      "data-device-request": request.uuid },
      h("h2", {}, "A new device wants to join"),
      h("p", {}, `“${request.name}” (${request.os_type})${where}.`),
      h("p", { class: "muted" }, "If this is you, type the number shown on the new device. "
        + "If not, deny it: someone may have your SMS code."),
      h("label", {}, "Number", input), error,
      h("div", { class: "actions two" }, deny, approve));
    const answer = async (decision) => {
      const number = input.value.trim();
      if (decision === "approve" && !/^[0-9]{2}$/.test(number)) {
        error.textContent = "Type the two-digit number shown on the new device.";
        input.focus();
        return;
      }
      approve.disabled = deny.disabled = true;
      try {
        const { device } = await decideDevice(this.getDevice(), request.uuid, decision,
          decision === "approve" ? Number(number) : undefined);
        this.remove(request.uuid);
        if (device.status === "approved") toast(`“${request.name}” can now use this account.`, "success");
        else toast(decision === "approve" ? "The number did not match: the new device was denied."
          : `“${request.name}” was denied.`);
      } catch (failure) {
        approve.disabled = deny.disabled = false;
        error.textContent = failure instanceof ApiError ? failure.message : "Try again.";
      }
    };
    form.addEventListener("submit", (event) => { event.preventDefault(); answer("approve"); });
    deny.addEventListener("click", () => answer("deny"));
    this.cards.set(request.uuid, form);
    this.root.append(form);
    if (this.revealing === request.uuid) this.reveal(request.uuid);
    else form.focus({ preventScroll: true });
  }

  /** Bring a join card into view (now, or as soon as it arrives): opened from a notification. */
  reveal(uuid) {
    const node = this.cards.get(uuid);
    if (!node) {
      this.revealing = uuid;
      return;
    }
    this.revealing = null;
    node.classList.add("revealed");
    node.scrollIntoView({ block: "center" });
    node.querySelector("input").focus({ preventScroll: true });
  }

  /** device.ended: decided here or on another device. */
  ended({ uuid }) {
    this.remove(uuid);
  }

  sync(requests) {
    const listed = new Set(requests.map((request) => request.uuid));
    for (const uuid of [...this.cards.keys()]) if (!listed.has(uuid)) this.remove(uuid);
    for (const request of requests) this.upsert(request);
  }

  remove(uuid) {
    const node = this.cards.get(uuid);
    this.onRemoved(uuid); // a notification may still show it
    if (node) node.remove();
    this.cards.delete(uuid);
  }
}
