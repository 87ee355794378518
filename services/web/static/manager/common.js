// Shared by the manager page and the monthly report: the staff page's token (same
// sessionStorage key, so logging in on / logs in here too), API calls and labels.
"use strict";
window.EOM = window.EOM || {};

EOM.TOKEN_KEY = "estateops.token";
EOM.NAME_KEY = "estateops.name";
EOM.REPORTS = "/api/v1/reports";

EOM.TEAMS = { repair: "维修 repair", safety: "平安 safety", telecom: "通信 telecom",
              cleaning: "保洁 cleaning" };
EOM.COLOURS = { green: "绿 green", yellow: "黄 yellow", red: "红 red" };
EOM.GROUPS = { team: "班组 team", estate: "小区 estate", zone: "片区 zone" };
EOM.STEPS = [
  { key: "ack", zh: "5分钟接单", en: "ack ≤ 5 min" },
  { key: "simple", zh: "30分钟简单维修", en: "simple ≤ 30 min" },
  { key: "complex", zh: "4小时复杂维修", en: "complex ≤ 4 h" },
  { key: "plan", zh: "1天外协方案", en: "plan ≤ 1 day" },
];

EOM.token = () => sessionStorage.getItem(EOM.TOKEN_KEY);

EOM.call = async (path, raw) => {
  const response = await fetch(path, { headers: { Authorization: `Bearer ${EOM.token()}` } });
  if (response.status === 401) {
    sessionStorage.removeItem(EOM.TOKEN_KEY);
    throw new Error("请重新登录 Please log in again");
  }
  if (!response.ok) {
    const body = await response.json().catch(() => ({}));
    throw new Error(body.message || body.detail || `请求失败 Request failed (${response.status})`);
  }
  return raw ? response.blob() : response.json();
};

EOM.logIn = async (username, password) => {
  const form = new URLSearchParams({ username, password });
  const response = await fetch("/api/v1/auth/token", { method: "POST", body: form });
  if (!response.ok) {
    throw new Error(response.status === 401 ? "用户名或密码错误 Wrong username or password"
                                            : `登录失败 Login failed (${response.status})`);
  }
  const body = await response.json();
  sessionStorage.setItem(EOM.TOKEN_KEY, body.access_token);
  sessionStorage.setItem(EOM.NAME_KEY, body.staff?.username ?? username);
};

EOM.query = (params) => new URLSearchParams(
  Object.entries(params).filter(([, value]) => value !== "" && value != null)).toString();

EOM.pct = (share) => (share.pct === null || share.pct === undefined ? "—" : `${share.pct}%`);
EOM.num = (value, digits) => (value === null || value === undefined ? "—"
                                                                     : Number(value).toFixed(digits));

EOM.thisMonth = () => {
  const now = new Date();
  const month = new Date(now.getFullYear(), now.getMonth(), 1);
  return `${month.getFullYear()}-${String(month.getMonth() + 1).padStart(2, "0")}`;
};

// One board row as display cells: "92.3%" with "12/13" under it.
EOM.boardCells = (row) => EOM.STEPS.map((step) => {
  const share = row[step.key];
  const decided = share.on_time + share.late;
  const level = share.pct === null ? "none" : share.pct >= 90 ? "good" : share.pct >= 70 ? "fair" : "poor";
  return { key: step.key, pct: EOM.pct(share), detail: decided ? `${share.on_time}/${decided}` : "",
           cls: `cell ${level}` };
});

EOM.boardRow = (row) => ({
  id: `${row.group}:${row.key}`, group: row.group, groupLabel: EOM.GROUPS[row.group],
  name: row.group === "team" ? EOM.TEAMS[row.key] || row.key : row.name,
  count: row.count, cells: EOM.boardCells(row),
});

EOM.weekChart = (canvas, weeks) => {
  const existing = Chart.getChart(canvas);
  if (existing) existing.destroy();
  const labels = weeks.map((week) => week.week.replace(/^\d{4}-/, ""));
  const bar = (label, key, colour) => ({ type: "bar", label, data: weeks.map((w) => w[key]),
                                         backgroundColor: colour, stack: "orders", yAxisID: "y" });
  return new Chart(canvas, {
    data: { labels, datasets: [
      bar("传感器 sensor", "sensor", "#1565c0"), bar("居民 resident", "resident", "#ef6c00"),
      bar("员工 staff", "staff", "#90a4ae"),
      { type: "line", label: "满意度 rating (1–5)", data: weeks.map((w) => w.rating_avg),
        borderColor: "#2e7d32", backgroundColor: "#2e7d32", yAxisID: "rating", spanGaps: true },
    ] },
    options: {
      animation: false, responsive: true, maintainAspectRatio: false,
      plugins: { legend: { position: "bottom" } },
      scales: {
        x: { stacked: true },
        y: { stacked: true, beginAtZero: true, title: { display: true, text: "工单 orders" },
             ticks: { precision: 0 } },
        rating: { position: "right", min: 0, max: 5, grid: { drawOnChartArea: false },
                  title: { display: true, text: "满意度 rating" } },
      },
    },
  });
};

EOM.categoryChart = (canvas, weeks) => {
  const existing = Chart.getChart(canvas);
  if (existing) existing.destroy();
  const labels = weeks.map((week) => week.week.replace(/^\d{4}-/, ""));
  const bar = (label, key, colour) => ({ label, data: weeks.map((w) => w[key]),
                                         backgroundColor: colour });
  return new Chart(canvas, {
    type: "bar",
    data: { labels, datasets: [bar("简单 simple", "simple", "#2e7d32"),
                               bar("复杂 complex", "complex", "#f9a825"),
                               bar("外协 external", "external", "#c62828")] },
    options: { animation: false, responsive: true, maintainAspectRatio: false,
               plugins: { legend: { position: "bottom" } },
               scales: { y: { beginAtZero: true, ticks: { precision: 0 } } } },
  });
};
