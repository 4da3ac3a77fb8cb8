// The proof of work for beginning a chat (see channels/chat/webchat/proof.py): find a nonce so
// that SHA-256 of "challenge:nonce" starts with `bits` zero bits, then send the form.
// Uses the vendored js-sha256 (sha256-0.11.1.min.js); without JavaScript the page asks to wait.
(function () {
  "use strict";
  var form = document.getElementById("start");
  if (!form || !form.dataset.pow || typeof sha256 !== "function") return;
  var challenge = form.dataset.pow;
  var bits = parseInt(form.dataset.powBits, 10);
  var nonce = form.querySelector("input[name=pow_nonce]");
  var status = document.getElementById("pow-status");
  var full = bits >> 2, rest = bits & 3;
  function enough(hex) {
    for (var i = 0; i < full; i++) if (hex.charCodeAt(i) !== 48) return false;
    return rest === 0 || parseInt(hex.charAt(full), 16) < (16 >> rest);
  }
  var solved = false, running = false;
  form.addEventListener("submit", function (event) {
    if (solved) return;
    event.preventDefault();
    if (running) return;
    running = true;
    if (status) status.hidden = false;
    var n = 0;
    (function work() {
      for (var end = n + 5000; n < end; n++) {
        if (enough(sha256(challenge + ":" + n))) {
          nonce.value = String(n);
          solved = true;
          form.submit();
          return;
        }
      }
      setTimeout(work, 0);
    })();
  });
})();
