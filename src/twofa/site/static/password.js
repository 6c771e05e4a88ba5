// The strength hint under the sign-up password: the server's own verdict (the check that decides
// at submission), asked for a moment after typing stops.
(function () {
  "use strict";
  var hint = document.querySelector("[data-strength]");
  var input = document.getElementById("password");
  if (!hint || !input) { return; }
  var text = hint.querySelector("[data-strength-text]");
  var token = document.querySelector('meta[name="csrf-token"]').content;
  var timer = null;
  var asked = 0;

  function value(id) {
    var el = document.getElementById(id);
    return el ? el.value : "";
  }

  function show(body) {
    hint.hidden = false;
    hint.dataset.ok = String(body.ok);
    hint.dataset.score = String(body.score);
    var words = [body.message].concat(body.suggestions || []);
    text.textContent = words.join(" ");
  }

  function ask() {
    var password = input.value;
    if (!password) { hint.hidden = true; return; }
    var mine = ++asked;
    fetch(hint.dataset.url, {
      method: "POST",
      credentials: "same-origin",
      headers: { "Content-Type": "application/json", "X-CSRFToken": token },
      body: JSON.stringify({ password: password, email: value("email"), full_name: value("full_name") })
    }).then(function (response) {
      return response.ok ? response.json() : null;
    }).then(function (body) {
      if (body && mine === asked) { show(body); }
    }).catch(function () { /* the check at submission still applies */ });
  }

  input.addEventListener("input", function () {
    window.clearTimeout(timer);
    timer = window.setTimeout(ask, 350);
  });
}());
