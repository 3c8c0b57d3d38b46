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
    pareto: function (el, chart) {
      // Losses largest first, with the cumulative share on the right axis.
      window.Plotly.newPlot(el, [
        { type: "bar", x: chart.x, y: chart.y, marker: { color: "#1f5fa8" }, name: chart.axis,
          hovertemplate: "%{x}: %{y:,.0f}<extra></extra>" },
        { type: "scatter", mode: "lines+markers", x: chart.x, y: chart.cum, yaxis: "y2",
          line: { color: "#c0392b" }, name: "%", hovertemplate: "%{y:.1f}%<extra></extra>" }
      ], {
        margin: { t: 10, r: 50, b: 60, l: 60 }, height: 300, font: FONT, showlegend: false,
        yaxis: { rangemode: "tozero", title: { text: chart.axis } },
        yaxis2: { overlaying: "y", side: "right", range: [0, 105], ticksuffix: "%" }
      }, CONFIG);
    },
    lines: function (el, chart) {
      // Several series over dates (OEE and its factors by day).
      var colours = ["#1f5fa8", "#2e8b57", "#d08c00", "#8e44ad"];
      var traces = chart.series.map(function (s, i) {
        return { type: "scatter", mode: "lines", x: chart.x, y: s.values, name: s.name,
          line: { color: colours[i % colours.length], width: i === 0 ? 2.5 : 1.2 },
          hovertemplate: "%{x}: %{y:.1f}" + (chart.percent ? "%" : "") + "<extra>" + s.name + "</extra>" };
      });
      window.Plotly.newPlot(el, traces, {
        margin: { t: 10, r: 16, b: 40, l: 50 }, height: 300, font: FONT,
        legend: { orientation: "h", y: -0.2 }, xaxis: { type: "date" },
        yaxis: chart.percent ? { ticksuffix: "%", rangemode: "tozero" } : { rangemode: "tozero" }
      }, CONFIG);
    },
    control: function (el, chart) {
      // A control chart: points, centre line and limits (steps when they vary), violations in red.
      var flagged = chart.flagged.map(function (i) { return chart.x[i]; });
      var flaggedY = chart.flagged.map(function (i) { return chart.y[i]; });
      var traces = [
        { type: "scatter", mode: "lines+markers", x: chart.x, y: chart.y, name: chart.title,
          line: { color: "#1f5fa8", width: 1.2 }, marker: { size: 5 },
          hovertemplate: "%{x}: %{y:.4g}<extra></extra>" },
        { type: "scatter", mode: "lines", x: chart.x, y: chart.center, name: "CL",
          line: { color: "#2e8b57", width: 1, shape: "hv" }, hoverinfo: "skip" },
        { type: "scatter", mode: "lines", x: chart.x, y: chart.ucl, name: "UCL",
          line: { color: "#c0392b", width: 1, dash: "dash", shape: "hv" }, hoverinfo: "skip" },
        { type: "scatter", mode: "lines", x: chart.x, y: chart.lcl, name: "LCL",
          line: { color: "#c0392b", width: 1, dash: "dash", shape: "hv" }, hoverinfo: "skip" },
        { type: "scatter", mode: "markers", x: flagged, y: flaggedY, name: "!",
          marker: { color: "#c0392b", size: 10, symbol: "circle-open", line: { width: 2 } },
          hoverinfo: "skip" }
      ];
      var shapes = [];
      if (chart.baseline && chart.baseline[1] < chart.x.length) {
        var edge = chart.x[chart.baseline[1] - 1];
        shapes.push({ type: "line", xref: "x", yref: "paper", x0: edge, x1: edge, y0: 0, y1: 1,
          line: { color: "#667", dash: "dot", width: 1 } });
      }
      window.Plotly.newPlot(el, traces, {
        margin: { t: 10, r: 16, b: 60, l: 60 }, height: 320, font: FONT, showlegend: false,
        xaxis: { type: "category", automargin: true, nticks: 20 }, shapes: shapes
      }, CONFIG);
    },
    fan: function (el, chart) {
      // History, then the forecast with its 95 % and 80 % bands.
      var band = function (lo, hi, colour, name) {
        return [
          { type: "scatter", mode: "lines", x: chart.x, y: hi, line: { width: 0 }, hoverinfo: "skip", showlegend: false },
          { type: "scatter", mode: "lines", x: chart.x, y: lo, line: { width: 0 }, fill: "tonexty",
            fillcolor: colour, name: name, hoverinfo: "skip" }
        ];
      };
      var traces = [
        { type: "scatter", mode: "lines", x: chart.hx, y: chart.hy, name: chart.names[0],
          line: { color: "#333", width: 1.5 }, hovertemplate: "%{x}: %{y:,.1f}<extra></extra>" }
      ].concat(band(chart.lo95, chart.hi95, "rgba(31,95,168,0.15)", chart.names[3]),
        band(chart.lo80, chart.hi80, "rgba(31,95,168,0.3)", chart.names[2]), [
        { type: "scatter", mode: "lines+markers", x: chart.x, y: chart.mean, name: chart.names[1],
          line: { color: "#1f5fa8", width: 2 }, hovertemplate: "%{x}: %{y:,.1f}<extra></extra>" }
      ]);
      window.Plotly.newPlot(el, traces, {
        margin: { t: 10, r: 16, b: 40, l: 60 }, height: 320, font: FONT,
        legend: { orientation: "h", y: -0.2 }, xaxis: { type: "date" }, yaxis: { rangemode: "tozero" }
      }, CONFIG);
    },
    profile: function (el, chart) {
      // Defect rate in ten quantile bins of a parameter; rows per bin in the hover.
      window.Plotly.newPlot(el, [{
        type: "bar", x: chart.x, y: chart.y, customdata: chart.n, marker: { color: "#1f5fa8" },
        hovertemplate: "%{x}: %{y:.2f}% (n = %{customdata:,})<extra></extra>"
      }], {
        margin: { t: 10, r: 16, b: 70, l: 60 }, height: 300, font: FONT,
        xaxis: { type: "category", automargin: true },
        yaxis: { rangemode: "tozero", ticksuffix: "%", title: { text: chart.axis } }
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
