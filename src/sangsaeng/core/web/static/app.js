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
      // Horizontal bars: Korean category names stay readable; the largest category on top.
      var x = chart.y.slice().reverse(), full = chart.x.slice().reverse();
      // Long industry names are shortened on the axis; the hover shows them whole.
      var y = full.map(function (label) { return label.length > 18 ? label.slice(0, 17) + "…" : label; });
      window.Plotly.newPlot(el, [{
        type: "bar", orientation: "h", x: x, y: y, customdata: full, marker: { color: "#1f5fa8" },
        hovertemplate: "%{customdata}: %{x:,}<extra></extra>"
      }], {
        margin: { t: 6, r: 16, b: 30, l: 10 }, height: Math.max(180, 26 * y.length + 50),
        font: { family: "'NanumGothic', 'Noto Sans KR', 'Malgun Gothic', sans-serif", size: 12 },
        yaxis: { automargin: true }, xaxis: { rangemode: "tozero", automargin: true }
      // No mode bar: its per-chart colours are injected as inline styles, which the CSP forbids.
      }, { displayModeBar: false, responsive: true });
    });
  }

  document.addEventListener("DOMContentLoaded", renderCharts);
})();
