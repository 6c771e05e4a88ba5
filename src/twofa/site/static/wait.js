// Waiting for a push approval: listen on the event stream, fall back to polling if it breaks.
(function () {
  "use strict";
  var root = document.getElementById("wait");
  if (!root) { return; }
  var form = document.getElementById("complete-form");
  var live = root.querySelector("[data-live]");
  var finished = false;
  var pollTimer = null;
  var source = null;

  function show(state) {
    root.querySelectorAll("[data-state]").forEach(function (el) {
      el.hidden = el.getAttribute("data-state") !== state;
    });
  }

  function handle(state) {
    if (finished) { return; }
    if (state === "approved") {
      finish(); show("approved");
      form.submit();
    } else if (state === "denied" || state === "none") {
      finish();
      window.location.assign(root.dataset.verifyUrl);
    } else if (state === "expired") {
      finish(); show("expired");
      form.hidden = true;
    } else if (state === "signed_out" || state === "signed_in") {
      finish();
    }
  }

  function finish() {
    finished = true;
    if (source) { source.close(); }
    if (pollTimer) { window.clearTimeout(pollTimer); }
  }

  function poll() {
    if (finished) { return; }
    var token = document.querySelector('meta[name="csrf-token"]').content;
    fetch(root.dataset.statusUrl, {
      headers: { "Accept": "application/json", "X-CSRFToken": token },
      credentials: "same-origin"
    }).then(function (response) {
      return response.json().then(function (body) {
        if (response.status === 401 && body.next) { finish(); window.location.assign(body.next); return; }
        handle(body.status);
      });
    }).catch(function () {
      if (live) { live.textContent = "Connection lost — retrying…"; }
    }).then(function () {
      if (!finished) { pollTimer = window.setTimeout(poll, 2000); }
    });
  }

  function startPolling() {
    if (source) { source.close(); source = null; }
    if (!pollTimer && !finished) { poll(); }
  }

  handle(root.dataset.status);
  if (finished) { return; }
  if (!("EventSource" in window)) { startPolling(); return; }
  var failures = 0;
  source = new EventSource(root.dataset.eventsUrl);
  source.addEventListener("status", function (event) {
    failures = 0;
    try { handle(JSON.parse(event.data).status); } catch (e) { startPolling(); }
  });
  source.onerror = function () {
    // The server closes streams after a while and the browser reconnects; give up on
    // streaming only when reconnecting keeps failing.
    failures += 1;
    if (failures >= 3 || source.readyState === EventSource.CLOSED) { startPolling(); }
  };
}());
