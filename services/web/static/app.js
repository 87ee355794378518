// EstateOps staff page: log in for a bearer token, then list work orders and devices
// (refreshed every 10 s) and follow the live alert stream. All data goes in as textContent.
"use strict";

const TOKEN_KEY = "estateops.token";
const NAME_KEY = "estateops.name";
const REFRESH_MS = 10000;
const MAX_ALERTS = 50;
const DEVICE_LIMIT = 500;

const STATUS = {
  open: "待接单 open", acknowledged: "已接单 acknowledged", in_progress: "处理中 in progress",
  resolved: "已解决 resolved", closed: "已关闭 closed", cancelled: "已取消 cancelled",
};
const ACTIVE = new Set(["open", "acknowledged", "in_progress"]);
const DEVICE_TYPES = {
  leak_sensor: "漏水传感器 leak sensor", voice_light: "声控灯 voice light",
  ev_charger: "充电桩 EV charger", barrier_gate: "道闸 barrier gate",
};
const ALERT_KINDS = {
  created: "新工单 new", escalated: "升级 escalated", assigned: "已派单 assigned",
};

let refreshTimer = null;
let streamAbort = null;
let devices = [];

const $ = (id) => document.getElementById(id);

function el(tag, text, className) {
  const node = document.createElement(tag);
  if (text !== undefined && text !== null) node.textContent = String(text);
  if (className) node.className = className;
  return node;
}

function row(cells) {
  const tr = document.createElement("tr");
  for (const cell of cells) {
    const td = document.createElement("td");
    if (cell instanceof Node) td.append(cell); else td.textContent = cell ?? "—";
    tr.append(td);
  }
  return tr;
}

function shortTime(iso) {
  if (!iso) return "—";
  const when = new Date(iso);
  return when.toLocaleString("zh-CN", { hour12: false, month: "2-digit", day: "2-digit",
                                        hour: "2-digit", minute: "2-digit" });
}

function shortTelemetry(values) {
  if (!values) return "—";
  const text = Object.entries(values).map(([k, v]) => `${k}=${JSON.stringify(v)}`).join(" ");
  return text.length > 80 ? text.slice(0, 79) + "…" : text;
}

function showError(id, message) {
  const node = $(id);
  node.textContent = message;
  node.hidden = !message;
}

// ---- API -------------------------------------------------------------------------------

class Unauthorised extends Error {}

async function api(path, options = {}) {
  const headers = { Authorization: `Bearer ${sessionStorage.getItem(TOKEN_KEY)}`,
                    ...(options.headers || {}) };
  const response = await fetch(path, { ...options, headers });
  if (response.status === 401) throw new Unauthorised();
  if (!response.ok) {
    const body = await response.json().catch(() => ({}));
    throw new Error(`${response.status} ${body.detail || response.statusText}`);
  }
  return response.json();
}

async function logIn(event) {
  event.preventDefault();
  showError("login-error", "");
  const form = new URLSearchParams({ username: $("username").value,
                                     password: $("password").value });
  let response;
  try {
    response = await fetch("/api/v1/auth/token", { method: "POST", body: form });
  } catch (error) {
    showError("login-error", `无法连接服务器 Cannot reach the server (${error.message})`);
    return;
  }
  if (!response.ok) {
    showError("login-error", response.status === 401
      ? "用户名或密码错误 Wrong username or password"
      : `登录失败 Login failed (${response.status})`);
    return;
  }
  const body = await response.json();
  sessionStorage.setItem(TOKEN_KEY, body.access_token);
  sessionStorage.setItem(NAME_KEY, body.staff?.username ?? "");
  $("password").value = "";
  start();
}

function logOut() {
  sessionStorage.removeItem(TOKEN_KEY);
  sessionStorage.removeItem(NAME_KEY);
  clearInterval(refreshTimer);
  if (streamAbort) streamAbort.abort();
  $("app").hidden = true;
  $("who").hidden = true;
  $("login-panel").hidden = false;
}

function start() {
  $("login-panel").hidden = true;
  $("app").hidden = false;
  $("who").hidden = false;
  $("who-name").textContent = sessionStorage.getItem(NAME_KEY) || "";
  refresh();
  clearInterval(refreshTimer);
  refreshTimer = setInterval(refresh, REFRESH_MS);
  followAlerts();
}

async function refresh() {
  try {
    await Promise.all([loadWorkOrders(), loadDevices()]);
    showError("load-error", "");
  } catch (error) {
    if (error instanceof Unauthorised) { logOut(); return; }
    showError("load-error", `加载失败 Could not load: ${error.message}`);
  }
}

// ---- Work orders -----------------------------------------------------------------------

function overdueDeadlines(order, now) {
  const late = [];
  const past = (iso) => iso && new Date(iso).getTime() < now;
  if (order.status === "open" && past(order.ack_due_at)) late.push("ack");
  if (["open", "acknowledged"].includes(order.status) && past(order.plan_due_at)) late.push("plan");
  if (ACTIVE.has(order.status) && past(order.resolve_due_at)) late.push("resolve");
  return late;
}

function deadlineCell(order, now) {
  const late = overdueDeadlines(order, now);
  const box = el("div");
  const lines = [["ack", "接单", order.ack_due_at], ["plan", "方案", order.plan_due_at],
                 ["resolve", "解决", order.resolve_due_at]];
  for (const [key, label, due] of lines) {
    if (!due) continue;
    const isLate = late.includes(key);
    box.append(el("div", `${label} ${key}: ${shortTime(due)}${isLate ? " 已超时 overdue" : ""}`,
                  isLate ? "overdue" : ""));
  }
  return box;
}

function placeText(order) {
  const parts = [];
  if (order.location) parts.push(order.location);
  if (order.device_pk !== null) parts.push(`设备 device #${order.device_pk}`);
  return parts.length ? parts.join(" · ") : "—";
}

function actionCell(order) {
  if (order.status !== "open") return el("span", "");
  const button = el("button", "接单 Acknowledge", "acknowledge");
  button.type = "button";
  button.addEventListener("click", async () => {
    button.disabled = true;
    try {
      await api(`/api/v1/work-orders/${order.id}/acknowledge`, {
        method: "POST", headers: { "Content-Type": "application/json" }, body: "{}" });
      await loadWorkOrders();
    } catch (error) {
      if (error instanceof Unauthorised) { logOut(); return; }
      showError("load-error", `接单失败 Could not acknowledge: ${error.message}`);
      button.disabled = false;
    }
  });
  return button;
}

function workOrderOrder(a, b) {
  const active = Number(ACTIVE.has(b.status)) - Number(ACTIVE.has(a.status));
  if (active) return active;
  if (a.priority !== b.priority) return a.priority < b.priority ? -1 : 1;
  return b.created_at < a.created_at ? -1 : 1;
}

async function loadWorkOrders() {
  const body = await api("/api/v1/work-orders?limit=200");
  const now = Date.now();
  const rows = body.data.slice().sort(workOrderOrder).map((order) => {
    const tr = row([
      el("span", order.priority, `priority ${order.priority}`),
      el("span", order.title_zh || order.title_en),
      placeText(order),
      el("span", STATUS[order.status] || order.status, `status ${order.status}`),
      deadlineCell(order, now),
      actionCell(order),
    ]);
    tr.dataset.workOrder = order.id;
    if (order.title_zh && order.title_en) tr.cells[1].append(el("small", order.title_en, "en"));
    if (overdueDeadlines(order, now).length) tr.classList.add("late");
    return tr;
  });
  $("work-orders").tBodies[0].replaceChildren(...rows);
  $("work-orders-empty").hidden = rows.length > 0;
  $("work-orders-updated").textContent = `${body.count} · ${shortTime(new Date().toISOString())}`;
}

// ---- Devices ---------------------------------------------------------------------------

async function loadDevices() {
  const body = await api(`/api/v1/devices?limit=${DEVICE_LIMIT}`);
  devices = body.data;
  const shown = body.count > devices.length ? `仅显示前 ${devices.length} 台 first ${devices.length} of ${body.count}` : "";
  $("devices-count").textContent = shown;
  updateTypeFilter();
  renderDevices();
  $("devices-updated").textContent = `${body.count} · ${shortTime(new Date().toISOString())}`;
}

function updateTypeFilter() {
  const select = $("device-type");
  const known = new Set([...select.options].map((option) => option.value));
  for (const type of new Set(devices.map((device) => device.device_type))) {
    if (!known.has(type)) select.append(new Option(DEVICE_TYPES[type] || type, type));
  }
}

function onlineCell(online) {
  if (online === null) return el("span", "未上报 never", "never");
  return online ? el("span", "在线 online", "online") : el("span", "离线 offline", "offline");
}

function renderDevices() {
  const type = $("device-type").value;
  const rows = devices.filter((device) => !type || device.device_type === type).map((device) => {
    const name = el("span", device.device_id);
    if (device.display_name) name.append(el("small", ` ${device.display_name}`));
    const tr = row([
      device.estate_id, device.building?.name ?? device.building?.code,
      device.unit?.name ?? device.unit?.code, name,
      DEVICE_TYPES[device.device_type] || device.device_type, onlineCell(device.online),
      shortTime(device.last_seen_at), shortTelemetry(device.last_telemetry),
    ]);
    tr.dataset.device = `${device.estate_id}/${device.device_id}`;
    return tr;
  });
  $("devices").tBodies[0].replaceChildren(...rows);
}

// ---- Live alerts (fetch + reader: EventSource cannot send the Authorization header) ----

function setStreamState(text) { $("alerts-state").textContent = text; }

function showAlert(alert) {
  const item = el("li", null, `alert priority-${alert.priority}`);
  item.append(el("span", shortTime(alert.at || new Date().toISOString()), "when"),
              el("span", alert.priority, `priority ${alert.priority}`),
              el("span", ALERT_KINDS[alert.kind] || alert.kind || "", "kind"),
              el("span", alert.title_zh || alert.title_en || `#${alert.work_order_id}`, "title"),
              el("span", [alert.estate_id, alert.location].filter(Boolean).join(" · "), "where"));
  const list = $("alerts");
  list.prepend(item);
  while (list.children.length > MAX_ALERTS) list.lastChild.remove();
  $("alerts-empty").hidden = true;
}

function handleSseBlock(block) {
  let event = "message";
  const data = [];
  for (const line of block.split("\n")) {
    if (!line || line.startsWith(":")) continue;
    const colon = line.indexOf(":");
    const field = colon < 0 ? line : line.slice(0, colon);
    const value = colon < 0 ? "" : line.slice(colon + 1).replace(/^ /, "");
    if (field === "event") event = value;
    else if (field === "data") data.push(value);
  }
  if (event === "ready") setStreamState("已连接 connected");
  else if (event === "alert" && data.length) showAlert(JSON.parse(data.join("\n")));
}

async function readStream(signal) {
  const response = await fetch("/api/v1/alerts/stream", {
    headers: { Authorization: `Bearer ${sessionStorage.getItem(TOKEN_KEY)}`,
               Accept: "text/event-stream" }, signal });
  if (response.status === 401) throw new Unauthorised();
  if (!response.ok) throw new Error(String(response.status));
  const reader = response.body.pipeThrough(new TextDecoderStream()).getReader();
  let buffer = "";
  for (;;) {
    const { value, done } = await reader.read();
    if (done) return;
    buffer += value;
    // Hold back a trailing "\r": its "\n" may arrive in the next chunk.
    const held = buffer.endsWith("\r") ? "\r" : "";
    let text = (held ? buffer.slice(0, -1) : buffer).replace(/\r\n?/g, "\n");
    let end;
    while ((end = text.indexOf("\n\n")) >= 0) {
      handleSseBlock(text.slice(0, end));
      text = text.slice(end + 2);
    }
    buffer = text + held;
  }
}

async function followAlerts() {
  if (streamAbort) streamAbort.abort();
  const abort = new AbortController();
  streamAbort = abort;
  while (!abort.signal.aborted) {
    try {
      await readStream(abort.signal);
    } catch (error) {
      if (error instanceof Unauthorised) { logOut(); return; }
    }
    if (abort.signal.aborted) return;
    setStreamState("重新连接中 reconnecting…");
    await new Promise((resolve) => setTimeout(resolve, 3000));
  }
}

// ---- Start -----------------------------------------------------------------------------

document.addEventListener("DOMContentLoaded", () => {
  $("login-form").addEventListener("submit", logIn);
  $("logout").addEventListener("click", logOut);
  $("device-type").addEventListener("change", renderDevices);
  if (sessionStorage.getItem(TOKEN_KEY)) start();
});
