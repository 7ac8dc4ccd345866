// Dashboards: bar charts from the figures the page already shows in tables (progressive: the
// tables and their links work without this file), and the timeline's print button.
(function () {
  "use strict";

  const palette = ["#1f6feb", "#2e7d32", "#c62828", "#8a5a00", "#6f42c1", "#0f7b8a"];

  function drawCharts() {
    if (typeof window.Chart === "undefined") {
      return;
    }
    document.querySelectorAll("canvas[data-chart]").forEach(function (canvas) {
      const source = document.getElementById(canvas.dataset.chart);
      if (!source) {
        return;
      }
      const data = JSON.parse(source.textContent);
      const stacked = Boolean(data.stacked);
      new window.Chart(canvas, {
        type: "bar",
        data: {
          labels: data.labels,
          datasets: data.datasets.map(function (set, index) {
            return {
              label: set.label,
              data: set.data,
              backgroundColor: palette[index % palette.length],
            };
          }),
        },
        options: {
          responsive: true,
          maintainAspectRatio: false,
          animation: false,
          indexAxis: stacked ? "x" : "y",
          plugins: { legend: { display: data.datasets.length > 1, position: "bottom" } },
          scales: {
            x: { stacked: stacked, ticks: { precision: 0 } },
            y: { stacked: stacked, ticks: { precision: 0 } },
          },
        },
      });
    });
  }

  function bindPrint() {
    document.querySelectorAll("[data-print]").forEach(function (button) {
      button.addEventListener("click", function () {
        window.print();
      });
    });
  }

  document.addEventListener("DOMContentLoaded", function () {
    drawCharts();
    bindPrint();
  });
})();
