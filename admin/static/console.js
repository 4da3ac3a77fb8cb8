// The agent's screen: offers arrive by server-sent events, with a sound and a visible notice,
// and the queue panel refreshes itself. Without JavaScript the page still works by reloading.
// Links and forms are boosted (htmx swaps the body), so this script runs once per tab: it looks
// its elements up when an event comes, and listens while a queue panel is on the page.
(function () {
  "use strict";
  if (!window.EventSource) { return; }
  var source = null;
  function chime() {
    try {
      var audio = new (window.AudioContext || window.webkitAudioContext)();
      var tone = audio.createOscillator();
      var gain = audio.createGain();
      tone.frequency.value = 880;
      gain.gain.value = 0.2;
      tone.connect(gain); gain.connect(audio.destination);
      tone.start(); tone.stop(audio.currentTime + 0.4);
    } catch (e) { /* no sound available: the visible notice still shows */ }
  }
  var pending = null;
  function refresh() {
    // a busy queue changes many times a second: one refresh per second is enough for the eye
    if (pending) { return; }
    pending = setTimeout(function () {
      pending = null;
      if (window.htmx && document.getElementById("queue")) {
        window.htmx.ajax("GET", "/console/queue", { target: "#queue", select: "#queue", swap: "outerHTML" });
      }
    }, 300);
  }
  function offered() {
    chime();
    var notice = document.getElementById("offer-notice");
    if (notice) { notice.hidden = false; notice.focus(); }
    document.title = "● " + document.title.replace(/^● /, "");
    refresh();
  }
  function listen() {
    var onQueue = !!document.getElementById("queue");
    if (onQueue && !source) {
      source = new EventSource("/console/stream");
      source.addEventListener("offer", offered);
      source.addEventListener("queue", refresh);
    } else if (!onQueue && source) {
      source.close();
      source = null;
    }
  }
  listen();
  document.addEventListener("htmx:afterSettle", listen);
})();
