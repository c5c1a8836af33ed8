/* Podpiska's charts: each <canvas data-chart="ID"> is drawn by Chart.js (the UMD build in
   /static/vendor) from the JSON of <script type="application/json" id="ID">. Amounts come
   as strings of Decimals; Chart.js parses them for drawing only, the page's tables keep the
   exact figures. No inline script: the Content-Security-Policy allows this site's files. */
(function () {
  "use strict";
  var PALETTE = ["#2e8b3d", "#3b6fd8", "#e0a100", "#c62828", "#6a4fb3", "#00838f", "#8d6e63"];
  var LINE = "#222222";

  function draw(canvas) {
    if (typeof window.Chart === "undefined" || canvas.dataset.drawn) return;
    var source = document.getElementById(canvas.dataset.chart);
    if (!source) return;
    var spec = JSON.parse(source.textContent);
    var round = spec.type === "doughnut" || spec.type === "pie";
    var datasets = spec.datasets.map(function (set, i) {
      var color = set.type === "line" ? LINE : PALETTE[i % PALETTE.length];
      var out = {
        label: set.label,
        data: set.data,
        type: set.type || undefined,
        stack: set.stack || undefined,
        backgroundColor: round ? spec.labels.map(function (_, j) { return PALETTE[j % PALETTE.length]; }) : color,
        borderColor: color,
        borderWidth: set.type === "line" ? 2 : 0
      };
      if (set.type === "line") { out.order = -1; out.fill = false; out.tension = 0.2; }
      return out;
    });
    var scales = round ? {} : {
      x: { stacked: !!spec.stacked },
      y: { stacked: !!spec.stacked, beginAtZero: true }
    };
    new window.Chart(canvas, {
      type: spec.type,
      data: { labels: spec.labels, datasets: datasets },
      options: {
        responsive: true,
        maintainAspectRatio: false,
        animation: false,
        scales: scales,
        plugins: { legend: { position: "bottom" } }
      }
    });
    canvas.dataset.drawn = "1";
  }

  function drawAll() {
    document.querySelectorAll("canvas[data-chart]").forEach(draw);
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", drawAll);
  } else {
    drawAll();
  }
})();
