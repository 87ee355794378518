// Telemetry charts (Chart.js, time axis through the date-fns adapter). Chart objects live
// here, outside Alpine's reactive state: Alpine's proxies would break them.
"use strict";
window.EO = window.EO || {};

EO.RANGES = {
  "1h": { ms: 3600e3, interval: "1m" },
  "24h": { ms: 24 * 3600e3, interval: "15m" },
  "7d": { ms: 7 * 24 * 3600e3, interval: "1h" },
};

EO.history = async (device, field, range) => {
  const spec = EO.RANGES[range];
  const end = new Date();
  const params = EO.query({
    field: field.field, interval: spec.interval, agg: field.type === "bool" ? "max" : "mean",
    start: new Date(end.getTime() - spec.ms).toISOString(), end: end.toISOString(),
  });
  const path = `/api/v1/estates/${encodeURIComponent(device.estate_id)}/devices/` +
               `${encodeURIComponent(device.device_id)}/history?${params}`;
  const body = await EO.api(path);
  return body.data.filter((bucket) => bucket.value !== null)
    .map((bucket) => ({ x: new Date(bucket.start).getTime(), y: bucket.value }));
};

EO.drawChart = (canvas, points, field, range) => {
  const existing = Chart.getChart(canvas);
  if (existing) existing.destroy();
  const spec = EO.RANGES[range];
  const now = Date.now();
  const label = field.unit ? `${field.field} (${field.unit})` : field.field;
  return new Chart(canvas, {
    type: "line",
    data: { datasets: [{ label, data: points, borderColor: "#1565c0", backgroundColor: "#1565c0",
                         pointRadius: 3, stepped: field.type === "bool", spanGaps: false }] },
    options: {
      animation: false, responsive: true, maintainAspectRatio: false,
      parsing: false,
      scales: {
        x: { type: "time", min: now - spec.ms, max: now,
             time: { displayFormats: { minute: "HH:mm", hour: "HH:mm", day: "MM-dd" } } },
        y: field.type === "bool" ? { min: 0, max: 1, ticks: { stepSize: 1 } } : {},
      },
      plugins: { legend: { display: true, labels: { boxWidth: 12 } } },
    },
  });
};
