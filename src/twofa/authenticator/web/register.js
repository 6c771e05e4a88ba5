// Registration: phone number → code by SMS or call → device name, then enrol a fresh key.

import { ApiError, confirmRegistration, me, startRegistration } from "./api.js";
import { generateKeyPair, publicJwk } from "./keys.js";
import { deviceLabel } from "./ui.js";

const CALLING_CODES = { US: "1", CA: "1", GB: "44", IE: "353", FR: "33", DE: "49", ES: "34",
  IT: "39", NL: "31", BE: "32", CH: "41", AT: "43", SE: "46", NO: "47", DK: "45", FI: "358",
  PL: "48", PT: "351", BR: "55", MX: "52", AR: "54", IN: "91", JP: "81", KR: "82", CN: "86",
  AU: "61", NZ: "64", ZA: "27", NG: "234", IL: "972", TR: "90", SG: "65" };

const MESSAGES = {
  60033: "That phone number does not look right. Check the country code and number.",
  60003: "Too many codes were requested for this number. Wait a few minutes and try again.",
  60022: "That code is not right. Check the message and try again.",
  60023: "This code has expired or was used up. Request a new one.",
};

function friendly(error) {
  if (error instanceof ApiError) {
    if (error.offline) return "You are offline. Connect to the internet and try again.";
    return MESSAGES[error.code] || error.message;
  }
  return "Something went wrong. Try again.";
}

function guessCallingCode() {
  for (const tag of navigator.languages || [navigator.language]) {
    const region = (tag || "").split("-")[1];
    if (region && CALLING_CODES[region.toUpperCase()]) return CALLING_CODES[region.toUpperCase()];
  }
  return "1";
}

/** Run the registration screen; resolves with the new device (uuid, keys, phone, name). */
export function runRegistration(root) {
  const forms = {
    phone: root.querySelector("#step-phone"),
    code: root.querySelector("#step-code"),
    name: root.querySelector("#step-name"),
    approval: root.querySelector("#step-approval"),
  };
  const state = { registrationId: null, request: null, code: null, keyPair: null };
  const keyPairReady = () => (state.keyPair ||= generateKeyPair());

  const show = (step) => {
    for (const [name, form] of Object.entries(forms)) form.hidden = name !== step;
    root.querySelectorAll(".steps li").forEach((item) => {
      const order = ["phone", "code", "name", "approval"];
      item.classList.toggle("done", order.indexOf(item.dataset.step) < order.indexOf(step));
      if (item.dataset.step === step) item.setAttribute("aria-current", "step");
      else item.removeAttribute("aria-current");
    });
    const first = forms[step].querySelector("input:not([type=radio])");
    if (step === "approval") forms.approval.focus();
    if (first) first.focus();
  };
  const setError = (form, message) => {
    const node = form.querySelector("[data-error]");
    node.textContent = message || "";
    form.querySelectorAll("input").forEach((input) => {
      if (message && input === form.querySelector("input:not([type=radio])")) input.setAttribute("aria-invalid", "true");
      else input.removeAttribute("aria-invalid");
    });
  };
  const busy = async (form, action) => {
    const button = form.querySelector("button[type=submit]");
    button.disabled = true;
    button.setAttribute("aria-busy", "true");
    try {
      await action();
    } catch (error) {
      if (!(error instanceof Denied)) setError(form, friendly(error));
    } finally {
      button.disabled = false;
      button.removeAttribute("aria-busy");
    }
  };

  forms.phone.elements.country_code.value = guessCallingCode();
  forms.name.elements.name.value = deviceLabel();

  const requestCode = async () => {
    const response = await startRegistration(state.request);
    state.registrationId = response.registration_id;
    const how = state.request.via === "call" ? "We are calling" : "We sent a code to";
    forms.code.querySelector("[data-sent-to]").textContent =
      `${how} +${state.request.countryCode} ${state.request.phoneNumber}.`;
  };

  return new Promise((resolve) => {
    forms.phone.addEventListener("submit", (event) => {
      event.preventDefault();
      const form = forms.phone;
      const countryCode = form.elements.country_code.value.replace(/\D/g, "");
      const phoneNumber = form.elements.phone_number.value.trim();
      if (!countryCode) return setError(form, "Enter your country calling code, for example 1 or 44.");
      if (phoneNumber.replace(/\D/g, "").length < 4) return setError(form, "Enter your phone number.");
      setError(form, "");
      busy(form, async () => {
        state.request = { countryCode, phoneNumber, via: form.elements.via.value };
        await requestCode();
        keyPairReady();
        forms.code.reset();
        setError(forms.code, "");
        show("code");
      });
    });

    forms.code.addEventListener("submit", (event) => {
      event.preventDefault();
      const code = forms.code.elements.code.value.replace(/\D/g, "");
      if (code.length !== 6) return setError(forms.code, "Enter the 6 digits from the message.");
      setError(forms.code, "");
      state.code = code;
      show("name");
    });
    forms.code.elements.code.addEventListener("input", (event) => {
      const digits = event.target.value.replace(/\D/g, "").slice(0, 6);
      if (digits !== event.target.value) event.target.value = digits;
    });
    forms.code.querySelector("[data-action=change-number]").addEventListener("click", () => {
      setError(forms.phone, "");
      show("phone");
    });
    forms.code.querySelector("[data-action=resend]").addEventListener("click", () => {
      busy(forms.code, async () => {
        await requestCode();
        setError(forms.code, "");
        forms.code.querySelector("[data-sent-to]").textContent += " A new code is on its way.";
      });
    });

    forms.name.addEventListener("submit", (event) => {
      event.preventDefault();
      const name = forms.name.elements.name.value.trim();
      if (!name) return setError(forms.name, "Give this device a name.");
      setError(forms.name, "");
      busy(forms.name, async () => {
        const keyPair = await keyPairReady();
        try {
          const response = await confirmRegistration(state.registrationId, {
            code: state.code, name, publicKey: await publicJwk(keyPair.publicKey) });
          const device = { ...response.device, privateKey: keyPair.privateKey,
            publicKey: keyPair.publicKey };
          if (response.device.state === "pending") {
            await waitForApproval(device, response.approval.number);
            device.state = "active";
          }
          resolve(device);
        } catch (error) {
          if (error instanceof ApiError && (error.code === "60022" || error.code === "60023")) {
            const step = error.code === "60022" ? "code" : "phone";
            show(step);
            setError(forms[step], friendly(error));
            return;
          }
          throw error;
        }
      });
    });

    /** A further device of this phone: show its number until another device approves it. */
    const waitForApproval = async (device, number) => {
      forms.approval.querySelector("[data-approval-number]").textContent = String(number);
      show("approval");
      for (;;) {
        await new Promise((done) => setTimeout(done, APPROVAL_POLL_MS));
        try {
          const answer = await me(device);
          if (answer.device.state === "active") return;
        } catch (error) {
          if (error instanceof ApiError && (error.status === 401 || error.status === 403)) {
            state.keyPair = null; // the key of a denied device is spent: a new one next time
            show("phone");
            setError(forms.phone, "The other device did not approve this one. Start again.");
            throw new Denied();
          }
        }
      }
    };

    show("phone");
  });
}

/** Thrown when the device was denied; the registration screen has already started over. */
class Denied extends Error {}
const APPROVAL_POLL_MS = 1500;
