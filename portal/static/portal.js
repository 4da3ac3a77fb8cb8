// The portal's few behaviours, each optional (every page works without JavaScript):
// the map pin and "use my location" fill the hidden coordinates, upload progress on forms sent
// by htmx, the print button, and the reports near the chosen place.
(function () {
  "use strict";

  function fill(lat, lon) {
    var la = document.getElementById("latitude"), lo = document.getElementById("longitude");
    if (!la || !lo) return;
    la.value = lat.toFixed(6);
    lo.value = lon.toFixed(6);
    var status = document.getElementById("geo-status");
    if (status && status.dataset.chosen) {
      status.textContent = status.dataset.chosen.replace("%(lat)s", la.value).replace("%(lon)s", lo.value);
    }
    var clear = document.getElementById("clear-location");
    if (clear) clear.hidden = false;
    var form = la.form;
    if (form && form.method === "get") {
      if (window.htmx) window.htmx.trigger(form, "submit"); else form.submit();
      return;
    }
    var nearby = document.getElementById("nearby");
    if (nearby && window.htmx) {
      window.htmx.ajax("GET", "/nearby?fragment=1&lat=" + la.value + "&lon=" + lo.value, { target: nearby, swap: "innerHTML" });
    }
  }

  function startMap(root) {
    var box = root.querySelector(".portal-map");
    if (!box || box.dataset.ready || !window.L || !box.dataset.tiles) return;
    box.dataset.ready = "yes";
    box.hidden = false;
    var center = box.dataset.center.split(",").map(Number);
    var map = window.L.map(box.querySelector(".portal-map__canvas"), { scrollWheelZoom: false })
      .setView(center, Number(box.dataset.zoom || 13));
    window.L.tileLayer(box.dataset.tiles, { maxZoom: 19, attribution: box.dataset.attribution || "" }).addTo(map);
    var pin = null;
    function place(lat, lon, fromUser) {
      if (!pin) {
        pin = window.L.marker([lat, lon], { draggable: true, title: box.dataset.pinLabel, alt: box.dataset.pinLabel }).addTo(map);
        pin.on("dragend", function () { var p = pin.getLatLng(); fill(p.lat, p.lng); });
      } else {
        pin.setLatLng([lat, lon]);
      }
      if (fromUser) fill(lat, lon);
    }
    map.on("click", function (e) { place(e.latlng.lat, e.latlng.lng, true); });
    box.portalPlace = function (lat, lon) { place(lat, lon, false); map.setView([lat, lon], Math.max(map.getZoom(), 16)); };
    var la = document.getElementById("latitude"), lo = document.getElementById("longitude");
    if (la && lo && la.value && lo.value) {
      place(Number(la.value), Number(lo.value), false);
      map.setView([Number(la.value), Number(lo.value)], Math.max(map.getZoom(), 16));
    }
    document.querySelectorAll(".portal-nearby-table tr[data-lat]").forEach(function (row) {
      window.L.circleMarker([Number(row.dataset.lat), Number(row.dataset.lon)], { radius: 7, color: "#d4351c" }).addTo(map);
    });
    root.portalMap = map;
  }

  function startGeo(root) {
    var geo = root.querySelector(".portal-geo");
    if (!geo || geo.dataset.ready) return;
    geo.dataset.ready = "yes";
    geo.hidden = false;
    var button = geo.querySelector("#use-location"), status = document.getElementById("geo-status");
    if (!("geolocation" in navigator)) { button.hidden = true; }
    button.addEventListener("click", function () {
      button.disabled = true;
      if (status) status.textContent = button.dataset.asking;
      navigator.geolocation.getCurrentPosition(function (pos) {
        button.disabled = false;
        var box = document.querySelector(".portal-map");
        if (box && box.portalPlace) box.portalPlace(pos.coords.latitude, pos.coords.longitude);
        fill(pos.coords.latitude, pos.coords.longitude);
      }, function () {
        button.disabled = false;
        if (status) status.textContent = button.dataset.refused;
      }, { enableHighAccuracy: true, timeout: 15000, maximumAge: 60000 });
    });
    var clear = geo.querySelector("#clear-location");
    if (clear) clear.addEventListener("click", function () {
      document.getElementById("latitude").value = "";
      document.getElementById("longitude").value = "";
      if (status) status.textContent = "";
      clear.hidden = true;
      var nearby = document.getElementById("nearby");
      if (nearby) nearby.innerHTML = "";
    });
  }

  function startPrint(root) {
    root.querySelectorAll(".portal-print").forEach(function (b) {
      if (b.dataset.ready) return;
      b.dataset.ready = "yes";
      b.hidden = false;
      b.addEventListener("click", function () { window.print(); });
    });
  }

  function start() {
    startMap(document);
    startGeo(document);
    startPrint(document);
  }

  // Upload progress on forms htmx sends (photos can take a while on a phone).
  document.addEventListener("htmx:xhr:progress", function (e) {
    var form = e.target.closest ? e.target.closest("form") : null;
    var bar = form && form.querySelector(".portal-progress");
    if (bar && e.detail.lengthComputable) {
      bar.value = Math.round((e.detail.loaded / e.detail.total) * 100);
      var text = form.querySelector(".portal-sending__text");
      if (text && form.dataset.sending) text.textContent = form.dataset.sending + " " + bar.value + "%";
    }
  });

  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", start); else start();
  document.addEventListener("htmx:afterSettle", start);
})();
