// The agent's screen: offers arrive by server-sent events, with a sound and a visible notice,
// and the queue panel refreshes itself. Without JavaScript the page still works by reloading.
(function () {
  "use strict";
  var panel = document.getElementById("queue");
  var notice = document.getElementById("offer-notice");
  if (!panel || !window.EventSource) { return; }
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
  function refresh() {
    if (window.htmx) { window.htmx.ajax("GET", "/console/queue", { target: "#queue", select: "#queue", swap: "outerHTML" }); }
  }
  var source = new EventSource("/console/stream");
  source.addEventListener("offer", function () {
    chime();
    if (notice) { notice.hidden = false; notice.focus(); }
    document.title = "● " + document.title.replace(/^● /, "");
    refresh();
  });
  source.addEventListener("queue", refresh);
})();
