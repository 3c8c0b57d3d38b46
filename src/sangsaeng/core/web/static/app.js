// Sangsaeng page behaviour. No inline scripts: the CSP allows only files served from here.
(function () {
  "use strict";

  // htmx requests carry the CSRF token in a header.
  document.addEventListener("htmx:configRequest", function (event) {
    var token = document.body.dataset.csrf;
    if (token) { event.detail.headers["X-CSRF-Token"] = token; }
  });

  function renderCharts() {
    var node = document.getElementById("chart-data");
    if (!node || !window.Plotly) { return; }
    var charts = JSON.parse(node.textContent);
    charts.forEach(function (chart) {
      var el = document.getElementById(chart.id);
      if (!el) { return; }
      window.Plotly.newPlot(el, [{
        type: "bar", x: chart.x, y: chart.y, marker: { color: "#1f5fa8" },
        hovertemplate: "%{x}: %{y:,}<extra></extra>"
      }], {
        margin: { t: 10, r: 10, b: 90, l: 45 }, height: 300,
        font: { family: "Pretendard, 'Noto Sans KR', 'Malgun Gothic', sans-serif", size: 12 },
        xaxis: { tickangle: -35, automargin: true }, yaxis: { rangemode: "tozero" }
      }, { displaylogo: false, responsive: true, modeBarButtonsToRemove: ["lasso2d", "select2d"] });
    });
  }

  document.addEventListener("DOMContentLoaded", renderCharts);
})();
