// Count down the resend cooldown so people see when they may ask for a new code.
(function () {
  "use strict";
  var box = document.getElementById("resend");
  if (!box) { return; }
  var left = parseInt(box.dataset.cooldown || "0", 10);
  var text = box.querySelector("[data-cooldown-text]");
  var seconds = box.querySelector("[data-seconds]");
  var buttons = box.querySelectorAll("[data-resend]");
  function tick() {
    if (left <= 0) {
      text.hidden = true;
      buttons.forEach(function (b) { b.disabled = false; });
      return;
    }
    seconds.textContent = String(left);
    left -= 1;
    window.setTimeout(tick, 1000);
  }
  if (left > 0) { tick(); }
}());
