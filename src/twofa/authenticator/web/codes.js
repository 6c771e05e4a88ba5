// The accounts list: live TOTP codes with a countdown ring, computed on the device.

import { serverNow } from "./api.js";
import { groupCode, secondsLeft, timeStep, totp } from "./totp.js";
import { avatar, clear, h, icons, toast } from "./ui.js";

const RING = 2 * Math.PI * 15;

export class CodesView {
  constructor(list) {
    this.list = list;
    this.rows = [];
  }

  /** Replace the accounts (from the provider or the offline copy). */
  render(accounts) {
    clear(this.list);
    this.rows = [];
    if (!accounts.length) {
      this.list.append(h("li", { class: "empty" },
        h("span", { class: "empty-icon", html: icons.codes }),
        h("strong", {}, "No accounts yet"),
        h("span", { class: "muted" },
          "Accounts appear here when a service adds your phone number for two-factor login.")));
      return;
    }
    for (const account of accounts) {
      const code = h("span", { class: "code", dataset: { code: "" } });
      const ring = h("span", { class: "ring", "aria-hidden": "true", html:
        '<svg viewBox="0 0 36 36"><circle class="track" cx="18" cy="18" r="15"/>'
        + `<circle class="progress" cx="18" cy="18" r="15" stroke-dasharray="${RING}"/></svg>`
        + '<span class="seconds"></span>' });
      const hidden = h("span", { class: "sr-only" });
      const copy = h("button", { class: "icon-button", type: "button",
        "aria-label": `Copy code for ${account.app_name}`, html: icons.copy,
        onclick: () => this.copy(row) });
      const li = h("li", { class: "account", dataset: { authyId: String(account.authy_id) } },
        avatar(account.app_name),
        h("div", { class: "account-main" },
          h("span", { class: "account-name" }, account.app_name),
          code, hidden),
        ring, copy);
      const row = { account, li, code, ring, hidden, step: null, value: "" };
      this.rows.push(row);
      this.list.append(li);
    }
    this.tick();
  }

  async copy(row) {
    try {
      await navigator.clipboard.writeText(row.value);
      toast(`Code for ${row.account.app_name} copied`);
    } catch {
      toast("Copying is not allowed here; read the code instead.");
    }
  }

  /** Called every second: recompute codes on a new time step, move the rings. */
  async tick() {
    const now = serverNow();
    for (const row of this.rows) {
      const period = row.account.period || 30;
      const left = secondsLeft(now, period);
      const step = timeStep(now, period);
      row.ring.querySelector(".seconds").textContent = String(left);
      row.ring.querySelector(".progress").style.strokeDashoffset = String(RING * (1 - left / period));
      row.ring.classList.toggle("ending", left <= 5);
      if (step !== row.step) {
        row.step = step;
        try {
          const value = await totp(row.account.secret, { timeMs: now, period,
            digits: row.account.digits || 6, algorithm: row.account.algorithm || "SHA1" });
          row.value = value;
          const [a, b] = groupCode(value);
          row.code.dataset.code = value;
          clear(row.code).append(h("span", {}, a), h("span", {}, b));
          row.code.setAttribute("aria-hidden", "true");
        } catch {
          row.code.textContent = "—";
        }
      }
      row.hidden.textContent = `Code ${row.value.split("").join(" ")}, ${left} seconds left`;
    }
  }
}
