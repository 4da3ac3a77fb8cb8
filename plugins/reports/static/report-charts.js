// The report page's chart, drawn with the vendored Apache ECharts (echarts-5.6.0.min.js, from
// npm, Apache-2.0: see echarts-NOTICE.txt) from the JSON the page carries in
// <script type="application/json" id="report-chart-data"> (the console's CSP runs no inline
// script). The tables under the chart hold the same numbers: without JavaScript the page shows
// them with their server-drawn bars, and so does the printed page. Links are boosted (htmx
// swaps the body and runs this script again), so each run draws the chart of the page it is on.
(function () {
  "use strict";
  var LIBRARY = "/static/reports/echarts-5.6.0.min.js";
  var COLOURS = ["#1f4e79", "#9aa5b1", "#c55a11", "#2e7d32", "#6a1b9a", "#00838f", "#ad1457",
    "#5d4037", "#f9a825", "#283593", "#558b2f", "#4e342e", "#546e7a"];

  function option(data, still, narrow) {
    var base = { animation: !still, color: COLOURS, textStyle: { fontFamily: "inherit" } };
    var values = data.series;
    if (data.chart === "pie") {
      var parts = [];
      for (var i = 0; i < data.labels.length; i++) {
        if (values[0].values[i]) { parts.push({ name: data.labels[i], value: values[0].values[i] }); }
      }
      base.tooltip = { trigger: "item", formatter: "{b}: {c} ({d}%)" };
      // on a phone the names go in the legend under the pie (the labels beside it would not fit)
      base.legend = { type: narrow ? "plain" : "scroll", bottom: 0 };
      base.series = [{ type: "pie", name: values[0].name, radius: ["0%", narrow ? "70%" : "62%"],
        center: ["50%", narrow ? "38%" : "45%"], data: parts,
        label: { show: !narrow, formatter: "{b}\n{c} ({d}%)" } }];
      return base;
    }
    base.tooltip = { trigger: "axis" };
    base.legend = { top: 0 };
    base.grid = { left: 8, right: 16, top: 36, bottom: 8, containLabel: true };
    var line = data.chart === "line";
    base.xAxis = { type: "category", data: data.labels, boundaryGap: !line,
      axisLabel: { interval: "auto", hideOverlap: true, rotate: line ? 0 : 30 } };
    base.yAxis = { type: "value", minInterval: 1 };
    base.series = values.map(function (s, n) {
      var drawn = { type: line ? "line" : "bar", name: s.name, data: s.values };
      if (line) { drawn.symbolSize = 5; drawn.connectNulls = false; }
      if (line && n > 0) { drawn.lineStyle = { type: "dashed" }; }
      return drawn;
    });
    return base;
  }

  function draw() {
    var box = document.getElementById("report-chart");
    var source = document.getElementById("report-chart-data");
    if (!box || !source || !window.echarts) { return; }
    var data;
    try { data = JSON.parse(source.textContent); } catch (e) { return; }
    if (!data || !data.labels || !data.labels.length || data.empty) { return; }
    box.hidden = false;
    box.removeAttribute("data-drawn");
    box.style.width = "100%";
    var narrow = box.clientWidth < 576;
    box.setAttribute("data-narrow", narrow ? "1" : "0");
    box.style.height = data.chart === "pie" ? (narrow ? "460px" : "340px") : "300px";
    var old = window.echarts.getInstanceByDom(box);
    if (old) { old.dispose(); }
    var still = window.matchMedia && window.matchMedia("(prefers-reduced-motion: reduce)").matches;
    var chart = window.echarts.init(box, null, { renderer: "canvas" });
    chart.on("finished", function () { box.setAttribute("data-drawn", data.chart); });
    chart.setOption(option(data, still, narrow));
  }

  function load() {
    if (window.echarts) { draw(); return; }
    var present = document.querySelector('script[data-echarts]');
    if (present) { present.addEventListener("load", draw); return; }
    var script = document.createElement("script");
    script.src = LIBRARY;
    script.setAttribute("data-echarts", "1");
    script.addEventListener("load", draw);
    document.head.appendChild(script);
  }

  if (!window.hotlineReportCharts) {
    window.hotlineReportCharts = true;
    var pending = null;
    window.addEventListener("resize", function () {
      window.clearTimeout(pending);
      pending = window.setTimeout(function () {
        var box = document.getElementById("report-chart");
        var chart = box && window.echarts && window.echarts.getInstanceByDom(box);
        if (!chart) { return; }
        // from a phone's width to a wider one (or back) it is drawn again: the pie differs
        if ((box.clientWidth < 576) !== (box.getAttribute("data-narrow") === "1")) { draw(); } else { chart.resize({ animation: { duration: 0 } }); }
      }, 150);
    });
  }
  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", load);
  } else {
    load();
  }
})();
