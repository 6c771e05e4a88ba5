// Incoming approval requests: one card each, live countdown, Approve / Deny or number choice.

import { ApiError, decide, unixNow } from "./api.js";
import { avatar, clear, formatDuration, h, icons, toast } from "./ui.js";

const ENDED_TEXT = { approved: "approved", denied: "denied", expired: "expired" };

export class RequestsView {
  constructor(root, { getDevice, onAnswered }) {
    this.root = root;
    this.getDevice = getDevice;
    this.onAnswered = onAnswered;
    this.cards = new Map(); // uuid → {request, node, timeLeft, receivedAt, busy}
    this.announcer = document.getElementById("announcer");
  }

  /** A request arrived (stream or list); pending ones get a card, others remove theirs. */
  upsert(request) {
    if (request.status !== "pending" || this.isExpired(request)) {
      this.remove(request.uuid);
      return;
    }
    const existing = this.cards.get(request.uuid);
    if (existing) {
      existing.request = request;
      return;
    }
    const card = this.build(request);
    this.cards.set(request.uuid, card);
    this.root.append(card.node);
    this.tick();
    this.announcer.textContent = `New request from ${request.app_name}: ${request.message}`;
    if (!document.activeElement || document.activeElement === document.body) {
      card.node.focus({ preventScroll: true });
    }
    card.node.scrollIntoView({ block: "nearest", behavior: "smooth" });
  }

  /** Reconcile with GET /requests: drop cards the provider no longer lists as pending. */
  sync(requests, startedAt) {
    const listed = new Set(requests.map((request) => request.uuid));
    for (const [uuid, card] of this.cards) {
      if (!listed.has(uuid) && card.receivedAt < startedAt && !card.busy) this.remove(uuid);
    }
    for (const request of requests) this.upsert(request);
  }

  /** The request ended elsewhere (another device, expiry): take the card away. */
  ended({ uuid, status }) {
    const card = this.cards.get(uuid);
    if (!card || card.busy) return;
    this.remove(uuid);
    const what = ENDED_TEXT[status] || status;
    const where = status === "expired" ? "" : " on another device";
    toast(`Request from ${card.request.app_name} was ${what}${where}.`);
    this.onAnswered();
  }

  remove(uuid) {
    const card = this.cards.get(uuid);
    if (!card) return;
    this.cards.delete(uuid);
    const hadFocus = card.node.contains(document.activeElement);
    card.node.remove();
    if (hadFocus) {
      const next = this.root.querySelector(".request");
      (next || document.getElementById("content")).focus({ preventScroll: true });
    }
  }

  clearAll() {
    for (const uuid of [...this.cards.keys()]) this.remove(uuid);
  }

  isExpired(request) {
    return request.expires_at && request.expires_at <= unixNow();
  }

  tick() {
    for (const [uuid, card] of this.cards) {
      const { expires_at: expiresAt } = card.request;
      if (!expiresAt) {
        card.timeLeft.textContent = "No time limit";
        continue;
      }
      const left = expiresAt - unixNow();
      if (left <= 0 && !card.busy) {
        this.remove(uuid);
        continue;
      }
      card.timeLeft.textContent = `Expires in ${formatDuration(left)}`;
      card.node.classList.toggle("urgent", left <= 30);
    }
  }

  build(request) {
    const titleId = `request-${request.uuid}-title`;
    const timeLeft = h("span", { class: "time-left" });
    const status = h("p", { class: "request-status", role: "status" });
    const details = Object.entries(request.details || {});
    const node = h("article", { class: "request card", tabindex: "-1", "aria-labelledby": titleId,
      dataset: { uuid: request.uuid } },
      h("div", { class: "request-top" },
        h("span", { class: "request-kind" }, h("span", { html: icons.bell }), "Approval request"),
        timeLeft),
      h("header", { class: "request-head" },
        avatar(request.app_name, request.logos),
        h("h2", { id: titleId, class: "request-app" }, request.app_name)),
      h("p", { class: "request-message" }, request.message),
      details.length ? h("dl", { class: "details" },
        details.flatMap(([key, value]) => [h("dt", {}, key), h("dd", {}, value)])) : null,
      status,
      this.actions(request));
    const card = { request, node, timeLeft, status, receivedAt: unixNow(), busy: false };
    return card;
  }

  actions(request) {
    const uuid = request.uuid;
    if (Array.isArray(request.numbers) && request.numbers.length) {
      const labelId = `request-${uuid}-numbers`;
      return h("div", { class: "actions" },
        h("p", { id: labelId, class: "number-prompt" },
          "Tap the number shown on the login screen"),
        h("div", { class: "numbers", role: "group", "aria-labelledby": labelId },
          request.numbers.map((number) => h("button", { class: "number", type: "button",
            "aria-label": `Approve with ${number}`,
            onclick: () => this.answer(uuid, "approve", number) }, String(number)))),
        h("button", { class: "button danger-outline block", type: "button",
          onclick: () => this.answer(uuid, "deny") }, "None of these — deny"));
    }
    if (request.number_matching) {
      // Typed, not tapped: a user approving at random cannot guess a two-digit number.
      const input = h("input", { class: "otp-input typed-number", inputmode: "numeric",
        maxlength: "2", pattern: "[0-9]{2}", autocomplete: "off",
        "aria-label": "Number shown on the login screen" });
      const approve = () => {
        const typed = input.value.trim();
        if (!/^[0-9]{2}$/.test(typed)) {
          const card = this.cards.get(uuid);
          if (card) card.status.textContent = "Type the two-digit number shown on the login screen.";
          input.focus();
          return;
        }
        this.answer(uuid, "approve", Number(typed));
      };
      input.addEventListener("keydown", (event) => { if (event.key === "Enter") approve(); });
      return h("div", { class: "actions" },
        h("p", { class: "number-prompt" }, "Type the number shown on the login screen"), input,
        h("div", { class: "actions two" },
          h("button", { class: "button danger-outline", type: "button",
            onclick: () => this.answer(uuid, "deny") }, h("span", { html: icons.cross }), "Deny"),
          h("button", { class: "button approve", type: "button", onclick: approve },
            h("span", { html: icons.check }), "Approve")));
    }
    return h("div", { class: "actions two" },
      h("button", { class: "button danger-outline", type: "button",
        onclick: () => this.answer(uuid, "deny") }, h("span", { html: icons.cross }), "Deny"),
      h("button", { class: "button approve", type: "button",
        onclick: () => this.answer(uuid, "approve") }, h("span", { html: icons.check }), "Approve"));
  }

  async answer(uuid, decision, number) {
    const card = this.cards.get(uuid);
    if (!card || card.busy) return;
    card.busy = true;
    card.node.setAttribute("aria-busy", "true");
    card.node.querySelectorAll("button").forEach((button) => { button.disabled = true; });
    try {
      const response = await decide(this.getDevice(), uuid, decision, number);
      const result = response.approval_request.status;
      card.node.classList.add(result === "approved" ? "was-approved" : "was-denied");
      const wrongNumber = decision === "approve" && result !== "approved";
      const message = wrongNumber
        ? "That was not the number on the login screen, so the request was denied."
        : `${result === "approved" ? "Approved" : "Denied"}.`;
      clear(card.status).append(message);
      toast(`${card.request.app_name}: ${message}`, result === "approved" ? "success" : "info");
      setTimeout(() => this.remove(uuid), wrongNumber ? 3500 : 900);
    } catch (error) {
      card.busy = false;
      card.node.removeAttribute("aria-busy");
      if (error instanceof ApiError && error.code === "60079") {
        this.remove(uuid);
        toast("This request was already answered or has expired.");
      } else {
        card.node.querySelectorAll("button").forEach((button) => { button.disabled = false; });
        card.status.textContent = error instanceof ApiError && error.offline
          ? "You are offline. Your answer was not sent." : `Could not send: ${error.message}`;
      }
    }
    this.onAnswered();
  }
}
