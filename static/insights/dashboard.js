/* The owner dashboard (issue #13): draws each chart with Chart.js from its JSON data, and polls a
   small endpoint every 4 s; when bookings or money changed, it reloads the dashboard's fragment.
   One request at a time, paused while the tab is hidden, charts destroyed before redrawing: an
   open dashboard keeps no growing state. Its words come translated from the server (chart labels
   in the JSON, the "Updated" line in data-updated-text); numbers and times follow the page's
   language (data-locale) in the browser's regional variant of it. */
(function () {
  "use strict";
  var POLL_MS = 4000;
  var charts = [];
  var COLOURS = ["#2f5d50", "#c2410c", "#6b7280", "#1d4ed8", "#7c3aed"];

  function pageLocale(section) {
    var language = section.getAttribute("data-locale") || "en";
    var regional = (navigator.languages || []).filter(function (tag) {
      return tag.split("-")[0].toLowerCase() === language;
    })[0];
    return regional || language;
  }

  function draw(root, locale) {
    charts.forEach(function (chart) { chart.destroy(); });
    charts = [];
    if (!window.Chart) { return; }
    root.querySelectorAll("canvas[data-chart]").forEach(function (canvas) {
      var source = document.getElementById(canvas.getAttribute("data-chart"));
      if (!source) { return; }
      var spec = JSON.parse(source.textContent);
      var datasets = spec.datasets.map(function (set, index) {
        var colour = COLOURS[index % COLOURS.length];
        return {label: set.label, data: set.data, type: set.type || undefined, stack: set.stack,
                borderColor: colour, backgroundColor: set.type === "line" ? colour : colour + "cc",
                borderDash: set.dashed ? [6, 4] : undefined, spanGaps: false};
      });
      charts.push(new window.Chart(canvas, {
        type: spec.type,
        data: {labels: spec.labels, datasets: datasets},
        options: {
          responsive: true, maintainAspectRatio: false, animation: false, locale: locale,
          indexAxis: spec.horizontal ? "y" : "x",
          scales: {x: {stacked: !!spec.stacked}, y: {stacked: !!spec.stacked, beginAtZero: true}}
        }
      }));
    });
  }

  function start() {
    var section = document.getElementById("dashboard");
    if (!section) { return; }
    var locale = pageLocale(section);
    draw(section, locale);
    var busy = false;
    function poll() {
      if (document.hidden || busy) { return schedule(); }
      busy = true;
      var controller = new AbortController();
      var timer = setTimeout(function () { controller.abort(); }, POLL_MS * 2);
      fetch(section.getAttribute("data-live-url"), {signal: controller.signal, credentials: "same-origin"})
        .then(function (response) { return response.ok ? response.json() : null; })
        .then(function (answer) {
          if (!answer || answer.version === section.getAttribute("data-version")) { return null; }
          return fetch(section.getAttribute("data-fragment-url"), {signal: controller.signal, credentials: "same-origin"})
            .then(function (response) { return response.ok ? response.text() : null; })
            .then(function (html) {
              if (!html) { return; }
              var holder = document.createElement("div");
              holder.innerHTML = html;
              var fresh = holder.querySelector("#dashboard");
              if (!fresh) { return; }
              section.innerHTML = fresh.innerHTML;
              section.setAttribute("data-version", fresh.getAttribute("data-version"));
              section.setAttribute("data-fragment-url", fresh.getAttribute("data-fragment-url"));
              section.setAttribute("data-updated-text", fresh.getAttribute("data-updated-text"));
              draw(section, locale);
              var live = section.querySelector(".dash-live");
              var text = section.getAttribute("data-updated-text") || "{time}";
              if (live) { live.textContent = text.replace("{time}", new Date().toLocaleTimeString(locale)); }
            });
        })
        .catch(function () { /* offline or aborted: try again at the next tick */ })
        .then(function () { clearTimeout(timer); busy = false; schedule(); });
    }
    function schedule() { setTimeout(poll, POLL_MS); }
    schedule();
  }

  if (document.readyState === "loading") { document.addEventListener("DOMContentLoaded", start); }
  else { start(); }
}());
