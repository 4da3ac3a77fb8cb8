// The wallboard updates itself: its stream says "refresh" (with the server's time) whenever the
// queue or a case changed, and the board is fetched again, computed after that time. A change
// shows within a second or so; the board is also fetched every 15 seconds (waits grow without
// events). Without JavaScript the page is still a page (reload it).
(function () {
  "use strict";
  var main = document.getElementById("content");
  if (!main || !window.fetch) { return; }
  var refreshUrl = main.getAttribute("data-refresh");
  var streamUrl = main.getAttribute("data-stream");
  var since = 0;
  var pending = null;
  var running = false;
  var again = false;
  var last = 0;  // when the board was last asked for: at most once a second
  function swap(html) {
    var holder = document.createElement("template");
    holder.innerHTML = html.trim();
    var fresh = holder.content.getElementById ? holder.content.getElementById("board") : holder.content.querySelector("#board");
    var board = document.getElementById("board");
    if (fresh && board) {
      board.replaceWith(fresh);
      document.dispatchEvent(new CustomEvent("wallboard:refreshed"));
    }
  }
  function fetchBoard() {
    if (running) { again = true; return; }
    running = true;
    last = Date.now();
    var url = refreshUrl + (refreshUrl.indexOf("?") < 0 ? "?" : "&") + "since=" + since;
    fetch(url, { headers: { "HX-Request": "true", "X-Hotline-Refresh": "1" }, credentials: "same-origin", cache: "no-store" })
      .then(function (r) {
        // a revoked kiosk link, or a session that ended: the page itself says so
        if (r.status === 401 || r.status === 403 || r.status === 404) { window.location.reload(); }
        if (!r.ok) { throw new Error(String(r.status)); }
        return r.text();
      })
      .then(swap)
      .catch(function () { /* the next change or the next 15 seconds try again */ })
      .then(function () {
        running = false;
        if (again) { again = false; refresh(); }
      });
  }
  function refresh() {
    if (pending) { return; }
    var wait = Math.max(250, 1000 - (Date.now() - last));
    pending = setTimeout(function () { pending = null; fetchBoard(); }, wait);
  }
  if (window.EventSource && streamUrl) {
    var source = new EventSource(streamUrl);
    source.addEventListener("refresh", function (e) {
      try { since = Math.max(since, JSON.parse(e.data).at || 0); } catch (err) { /* keep */ }
      refresh();
    });
  }
  setInterval(refresh, 15000);
})();
