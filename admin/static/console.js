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
  var busy = 0;  // the agent's own requests on their way
  var REFRESH = { "X-Hotline-Refresh": "1" };
  function isRefresh(e) {
    var config = e.detail && e.detail.requestConfig;
    return !!(config && config.headers && config.headers["X-Hotline-Refresh"]);
  }
  document.addEventListener("htmx:beforeRequest", function (e) { if (!isRefresh(e)) { busy += 1; } });
  document.addEventListener("htmx:afterRequest", function (e) { if (!isRefresh(e)) { busy = Math.max(0, busy - 1); } });
  document.addEventListener("htmx:beforeSwap", function (e) {
    if (isRefresh(e) && busy) { e.detail.shouldSwap = false; refresh(); }  // later, when idle
  });
  function refresh() {
    // a busy queue changes many times a second: one refresh per second is enough for the eye
    if (pending) { return; }
    pending = setTimeout(function () {
      pending = null;
      if (!window.htmx) { return; }
      // a click the agent made is on its way: replacing the list now would detach what was
      // clicked, and htmx would then show the answer without its address
      if (busy) { refresh(); return; }
      var list = document.getElementById("worklist");
      if (document.getElementById("queue")) {
        window.htmx.ajax("GET", "/console/queue", { target: "#queue", select: "#queue", swap: "outerHTML", headers: REFRESH });
      } else if (list) {
        var current = encodeURIComponent(list.getAttribute("data-current") || "");
        window.htmx.ajax("GET", "/console/queue/worklist?current=" + current, { target: "#worklist", swap: "outerHTML", headers: REFRESH });
      } else if (document.querySelector("[data-live]")) {
        // a board (the team's): the page's live part, fetched again from the page's own address
        var live = "#" + document.querySelector("[data-live]").id;
        window.htmx.ajax("GET", window.location.pathname, { target: live, select: live, swap: "outerHTML", headers: REFRESH });
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
    // an offer withdrawn (the caller hung up, another agent took it): its notice goes too
    var notice = document.getElementById("offer-notice");
    if (notice && !document.querySelector("#offers li.offer")) { notice.hidden = true; }
    var onQueue = !!(document.getElementById("queue") || document.getElementById("worklist") || document.querySelector("[data-live]"));
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

// Keyboard shortcuts: an element with data-key="x" is clicked (a button or a link) or focused (a
// field) when x is pressed outside a field; "?" lists the page's shortcuts with data-key-help.
// A reply template chosen in a select[data-fills] fills the textarea it names.
(function () {
  "use strict";
  function typing(el) {
    return el && (el.isContentEditable || /^(INPUT|TEXTAREA|SELECT)$/.test(el.tagName));
  }
  function visible(el) {
    return el.hasAttribute("data-href") || !!(el.offsetWidth || el.offsetHeight || el.getClientRects().length);
  }
  function keyed() {
    return Array.prototype.filter.call(document.querySelectorAll("[data-key]"), visible);
  }
  function openList() {
    var dialog = document.getElementById("shortcuts");
    var list = document.getElementById("shortcut-list");
    if (!dialog || !list || !dialog.showModal) { return; }
    Array.prototype.forEach.call(list.querySelectorAll("tr.page-key"), function (row) { row.remove(); });
    var seen = {};
    keyed().forEach(function (el) {
      var key = el.getAttribute("data-key");
      if (seen[key]) { return; }
      seen[key] = true;
      var row = document.createElement("tr");
      row.className = "page-key";
      var k = document.createElement("td");
      var kbd = document.createElement("kbd");
      kbd.textContent = key;
      k.appendChild(kbd);
      var what = document.createElement("td");
      what.textContent = el.getAttribute("data-key-help") || el.textContent.trim();
      row.appendChild(k); row.appendChild(what);
      list.appendChild(row);
    });
    if (!dialog.open) { dialog.showModal(); }
  }
  document.addEventListener("keydown", function (e) {
    if (e.ctrlKey || e.metaKey || e.altKey || typing(e.target)) { return; }
    var dialog = document.getElementById("shortcuts");
    if (dialog && dialog.open) { return; }
    if (e.key === "?") { e.preventDefault(); openList(); return; }
    var found = keyed().filter(function (el) { return el.getAttribute("data-key") === e.key; })[0];
    if (!found) { return; }
    e.preventDefault();
    if (found.hasAttribute("data-href")) { window.location.assign(found.getAttribute("data-href")); }
    else if (typing(found)) { found.focus(); } else { found.click(); }
  });
  document.addEventListener("click", function (e) {
    if (e.target.closest && e.target.closest("#show-shortcuts")) { e.preventDefault(); openList(); }
  });
  document.addEventListener("change", function (e) {
    var pick = e.target;
    if (!pick.matches || !pick.matches("select[data-fills]")) { return; }
    var option = pick.options[pick.selectedIndex];
    var body = option ? option.getAttribute("data-body") : null;
    var area = document.getElementById(pick.getAttribute("data-fills"));
    if (area && body !== null) { area.value = body; area.focus(); }
  });
})();

// A button pressed once sends once: a form's buttons are disabled while its request runs, and
// the bar at the top of the page (#loading) shows that something is on its way.
(function () {
  "use strict";
  document.addEventListener("htmx:beforeRequest", function (e) {
    var form = e.detail.elt && e.detail.elt.closest ? e.detail.elt.closest("form") : null;
    if (!form) { return; }
    Array.prototype.forEach.call(form.querySelectorAll("button"), function (button) {
      if (!button.disabled) { button.disabled = true; button.setAttribute("data-sending", ""); }
    });
  });
  document.addEventListener("htmx:afterRequest", function () {
    Array.prototype.forEach.call(document.querySelectorAll("button[data-sending]"), function (button) {
      button.disabled = false; button.removeAttribute("data-sending");
    });
  });
})();
