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
      var draw = DRAW[chart.type || "bar"];
      if (draw) { draw(el, chart); }
    });
  }

  var FONT = { family: "'NanumGothic', 'Noto Sans KR', 'Malgun Gothic', sans-serif", size: 12 };
  // No mode bar: its per-chart colours are injected as inline styles, which the CSP forbids.
  var CONFIG = { displayModeBar: false, responsive: true };

  var DRAW = {
    bar: function (el, chart) {
      // Horizontal bars: Korean category names stay readable; the largest category on top.
      var x = chart.y.slice().reverse(), full = chart.x.slice().reverse();
      // Long industry names are shortened on the axis; the hover shows them whole.
      var y = full.map(function (label) { return label.length > 18 ? label.slice(0, 17) + "…" : label; });
      window.Plotly.newPlot(el, [{
        type: "bar", orientation: "h", x: x, y: y, customdata: full, marker: { color: "#1f5fa8" },
        hovertemplate: "%{customdata}: %{x:,}<extra></extra>"
      }], {
        margin: { t: 6, r: 16, b: 30, l: 10 }, height: Math.max(180, 26 * y.length + 50),
        font: FONT, yaxis: { automargin: true }, xaxis: { rangemode: "tozero", automargin: true }
      }, CONFIG);
    },
    radar: function (el, chart) {
      // Closed polygons: the first dimension is repeated at the end.
      var theta = chart.labels.concat([chart.labels[0]]);
      var traces = chart.series.map(function (s) {
        return { type: "scatterpolar", r: s.values.concat([s.values[0]]), theta: theta,
          name: s.name, fill: "toself", line: { color: s.colour }, opacity: 0.8,
          hovertemplate: "%{theta}: %{r:.1f}<extra>" + s.name + "</extra>" };
      });
      window.Plotly.newPlot(el, traces, {
        margin: { t: 30, r: 40, b: 30, l: 40 }, height: 340, font: FONT, showlegend: true,
        legend: { orientation: "h" }, polar: { radialaxis: { range: [0, 100] } }
      }, CONFIG);
    },
    interval: function (el, chart) {
      // Means with their 95 % intervals as whiskers; labels carry n; the first row on top.
      var rev = function (a) { return a.slice().reverse(); };
      var x = rev(chart.values), full = rev(chart.labels), low = rev(chart.low), high = rev(chart.high);
      var y = full.map(function (label) { return label.length > 30 ? label.slice(0, 29) + "…" : label; });
      var plus = x.map(function (v, i) { return high[i] === null ? 0 : high[i] - v; });
      var minus = x.map(function (v, i) { return low[i] === null ? 0 : v - low[i]; });
      var ci = x.map(function (v, i) { return low[i] === null ? "—" : low[i] + "% ~ " + high[i] + "%"; });
      window.Plotly.newPlot(el, [{
        type: "bar", orientation: "h", x: x, y: y, marker: { color: "#1f5fa8" },
        customdata: full.map(function (label, i) { return [label, ci[i]]; }),
        error_x: { type: "data", symmetric: false, array: plus, arrayminus: minus, color: "#0f2a4a" },
        hovertemplate: "%{customdata[0]}: %{x:.1f}% (95%: %{customdata[1]})<extra></extra>"
      }], {
        margin: { t: 6, r: 16, b: 40, l: 10 }, height: Math.max(180, 28 * y.length + 60),
        font: FONT, yaxis: { automargin: true },
        xaxis: { automargin: true, ticksuffix: "%", zeroline: true, title: { text: chart.axis } }
      }, CONFIG);
    },
    histogram: function (el, chart) {
      // Bins computed on the server: x = bin centres, width = bin widths, y = companies.
      window.Plotly.newPlot(el, [{
        type: "bar", x: chart.x, y: chart.y, width: chart.width, marker: { color: "#1f5fa8" },
        hovertemplate: "%{x:.1f}%: %{y:,}<extra></extra>"
      }], {
        margin: { t: 6, r: 16, b: 40, l: 40 }, height: 280, font: FONT, bargap: 0.05,
        xaxis: { ticksuffix: "%", title: { text: chart.axis } }, yaxis: { rangemode: "tozero" }
      }, CONFIG);
    },
    event: function (el, chart) {
      // Event study: ATT by event time, pointwise 95 % whiskers, the uniform band (when
      // bootstrapped) shaded, pre-periods grey; a zero line and a dashed line before event 0.
      var traces = [];
      if (chart.band_low) {
        traces.push({ type: "scatter", mode: "lines", x: chart.x, y: chart.band_high,
          line: { width: 0 }, hoverinfo: "skip", showlegend: false });
        traces.push({ type: "scatter", mode: "lines", x: chart.x, y: chart.band_low,
          line: { width: 0 }, fill: "tonexty", fillcolor: "rgba(31,95,168,0.15)",
          name: chart.names.band, hoverinfo: "skip" });
      }
      [["pre", function (e) { return e < 0; }, "#888"], ["post", function (e) { return e >= 0; }, "#1f5fa8"]]
        .forEach(function (part) {
          var idx = chart.x.map(function (e, i) { return part[1](e) ? i : -1; })
            .filter(function (i) { return i >= 0; });
          if (!idx.length) { return; }
          var pick = function (a) { return idx.map(function (i) { return a[i]; }); };
          var y = pick(chart.y), low = pick(chart.low), high = pick(chart.high);
          traces.push({ type: "scatter", mode: "markers", x: pick(chart.x), y: y,
            name: chart.names[part[0]], marker: { color: part[2], size: 8 },
            error_y: { type: "data", symmetric: false, color: part[2],
              array: y.map(function (v, i) { return high[i] === null ? 0 : high[i] - v; }),
              arrayminus: y.map(function (v, i) { return low[i] === null ? 0 : v - low[i]; }) },
            hovertemplate: "%{x}: %{y:.3f}<extra></extra>" });
        });
      window.Plotly.newPlot(el, traces, {
        margin: { t: 10, r: 16, b: 50, l: 60 }, height: 340, font: FONT,
        legend: { orientation: "h", y: -0.25 },
        xaxis: { dtick: 1, zeroline: false, title: { text: chart.axis_x } },
        yaxis: { zeroline: true, zerolinecolor: "#667", title: { text: chart.axis_y } },
        shapes: [{ type: "line", xref: "x", yref: "paper", x0: -0.5, x1: -0.5, y0: 0, y1: 1,
          line: { color: "#a33", dash: "dash", width: 1 } }]
      }, CONFIG);
    },
    line: function (el, chart) {
      window.Plotly.newPlot(el, [{ type: "scatter", mode: "lines+markers", x: chart.x, y: chart.y,
        name: chart.name, line: { color: "#1f5fa8" } }], {
        margin: { t: 10, r: 16, b: 40, l: 40 }, height: 240, font: FONT,
        xaxis: { tickformat: "%Y-%m", type: "date" }, yaxis: { range: [0, 100] }
      }, CONFIG);
    }
  };

  document.addEventListener("DOMContentLoaded", renderCharts);
})();
