// Security keys and passkeys for the console: registration, sign-in and re-authentication.
// Served as a file (the CSP allows no inline script). Each [data-webauthn] block names the
// URL that hands out options and the URL that checks the browser's answer; both calls carry
// the page's CSRF token.
"use strict";

(function () {
  const csrf = document.querySelector('meta[name="csrf-token"]').content;

  function toBytes(text) {
    const base64 = text.replace(/-/g, "+").replace(/_/g, "/");
    const padded = base64 + "=".repeat((4 - (base64.length % 4)) % 4);
    return Uint8Array.from(atob(padded), (c) => c.charCodeAt(0)).buffer;
  }

  function toText(buffer) {
    const bytes = new Uint8Array(buffer);
    let binary = "";
    for (const b of bytes) binary += String.fromCharCode(b);
    return btoa(binary).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
  }

  async function post(url, body) {
    const response = await fetch(url, {
      method: "POST",
      credentials: "same-origin",
      headers: {
        "Content-Type": "application/json",
        Accept: "application/json",
        "X-CSRF-Token": csrf,
      },
      body: JSON.stringify(body || {}),
    });
    let data = {};
    try {
      data = await response.json();
    } catch (e) {
      data = {};
    }
    if (data.redirect && !response.ok) {
      window.location.assign(data.redirect); // sent to re-authenticate first
      throw new Error("redirected");
    }
    if (!response.ok) throw new Error(data.error || "The request was refused.");
    return data;
  }

  function creationOptions(options) {
    options.challenge = toBytes(options.challenge);
    options.user.id = toBytes(options.user.id);
    for (const c of options.excludeCredentials || []) c.id = toBytes(c.id);
    return options;
  }

  function requestOptions(options) {
    options.challenge = toBytes(options.challenge);
    for (const c of options.allowCredentials || []) c.id = toBytes(c.id);
    return options;
  }

  function registrationJson(credential) {
    const r = credential.response;
    return {
      id: credential.id,
      rawId: toText(credential.rawId),
      type: credential.type,
      response: {
        clientDataJSON: toText(r.clientDataJSON),
        attestationObject: toText(r.attestationObject),
        transports: r.getTransports ? r.getTransports() : [],
      },
      clientExtensionResults: credential.getClientExtensionResults(),
      authenticatorAttachment: credential.authenticatorAttachment || undefined,
    };
  }

  function assertionJson(credential) {
    const r = credential.response;
    return {
      id: credential.id,
      rawId: toText(credential.rawId),
      type: credential.type,
      response: {
        clientDataJSON: toText(r.clientDataJSON),
        authenticatorData: toText(r.authenticatorData),
        signature: toText(r.signature),
        userHandle: r.userHandle ? toText(r.userHandle) : undefined,
      },
      clientExtensionResults: credential.getClientExtensionResults(),
      authenticatorAttachment: credential.authenticatorAttachment || undefined,
    };
  }

  async function run(block) {
    const kind = block.dataset.webauthn;
    const options = await post(block.dataset.options);
    let body;
    if (kind === "register") {
      const credential = await navigator.credentials.create({ publicKey: creationOptions(options) });
      const name = block.querySelector("[data-webauthn-name]");
      body = { credential: registrationJson(credential), name: name ? name.value : "" };
    } else {
      const credential = await navigator.credentials.get({ publicKey: requestOptions(options) });
      body = { credential: assertionJson(credential), next: block.dataset.next || "" };
    }
    const result = await post(block.dataset.verify, body);
    window.location.assign(result.redirect);
  }

  for (const block of document.querySelectorAll("[data-webauthn]")) {
    const button = block.querySelector("[data-webauthn-start]");
    const error = block.querySelector("[data-webauthn-error]");
    if (!window.PublicKeyCredential) {
      button.disabled = true;
      error.textContent = "This browser does not support security keys.";
      error.hidden = false;
      continue;
    }
    button.addEventListener("click", async () => {
      button.disabled = true;
      error.hidden = true;
      try {
        await run(block);
      } catch (e) {
        if (e.message !== "redirected") {
          error.textContent = e.name === "NotAllowedError" ? "The security key was not used." : e.message;
          error.hidden = false;
        }
      } finally {
        button.disabled = false;
      }
    });
  }
})();
