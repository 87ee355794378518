// EstateOps administration page (admins): staff, duty rota, alert routes, resident contacts,
// deadline policy and rule overrides, through /api/v1/admin. One Alpine component; the
// token is the staff page's (same sessionStorage key), so logging in on / logs in here too.
"use strict";

const TOKEN_KEY = "estateops.token";
const NAME_KEY = "estateops.name";
const ADMIN = "/api/v1/admin";

const ROLES = [
  { id: "admin", label: "管理员 admin" }, { id: "dispatcher", label: "调度 dispatcher" },
  { id: "technician", label: "技术员 technician" }, { id: "viewer", label: "只读 viewer" },
];
const TEAMS = [
  { id: "repair", label: "维修 repair" }, { id: "safety", label: "平安 safety" },
  { id: "telecom", label: "通信 telecom" }, { id: "cleaning", label: "保洁 cleaning" },
];
const DESK = { id: "", label: "全小区（调度） whole estate" };
const TABS = [
  { id: "staff", zh: "人员", en: "Staff" }, { id: "rota", zh: "值班", en: "Rota" },
  { id: "routes", zh: "告警路由", en: "Alert routes" }, { id: "contacts", zh: "住户", en: "Residents" },
  { id: "policy", zh: "时限", en: "Deadlines" }, { id: "rules", zh: "规则", en: "Rules" },
];
const STEPS = [
  { key: "ack_s", zh: "接单", en: "Acknowledge" },
  { key: "simple_s", zh: "简单维修办结", en: "Resolve, simple" },
  { key: "complex_s", zh: "复杂维修办结", en: "Resolve, complex / P1" },
  { key: "plan_s", zh: "外协方案", en: "Plan, external" },
  { key: "external_s", zh: "外协办结", en: "Resolve, external" },
];
const DEVICES = {
  leak_sensor: "漏水传感器 leak sensor", voice_light: "声控灯 voice light",
  ev_charger: "充电桩 charger", barrier_gate: "道闸 barrier gate",
};
const OPS = { lt: "<", le: "≤", gt: ">", ge: "≥" };
const FIELDS = {
  temperature_c: "温度 temperature °C", current_ma: "电流 current mA", battery: "电量 battery %",
};
const KINDS = { ebike: "电动车 e-bike", car: "汽车 car" };
const PARAMS = {
  value: "阈值 threshold", for_s: "持续秒数 for (s)", in_a_row: "连续次数 in a row",
  count: "次数 count", within_s: "时间窗（秒） within (s)",
  silence_intervals: "静默周期数 silent intervals", priority: "优先级 priority (P1–P4)",
};
const KIND_PARAMS = {
  ConditionRule: ["value", "for_s", "in_a_row", "priority"],
  EventRule: ["count", "within_s", "priority"],
  SilenceRule: ["silence_intervals", "priority"],
};

class Unauthorised extends Error {}

async function call(method, path, body) {
  const headers = { Authorization: `Bearer ${sessionStorage.getItem(TOKEN_KEY)}` };
  if (body !== undefined) headers["Content-Type"] = "application/json";
  const response = await fetch(path, {
    method, headers, body: body === undefined ? undefined : JSON.stringify(body),
  });
  if (response.status === 401) throw new Unauthorised();
  if (!response.ok) {
    const error = await response.json().catch(() => ({}));
    throw new Error(`${response.status} ${error.detail || response.statusText}`);
  }
  return response.status === 204 ? null : response.json();
}

function localInput(date) {
  const pad = (n) => String(n).padStart(2, "0");
  return `${date.getFullYear()}-${pad(date.getMonth() + 1)}-${pad(date.getDate())}` +
         `T${pad(date.getHours())}:${pad(date.getMinutes())}`;
}

function shortTime(iso) {
  return new Date(iso).toLocaleString("zh-CN", { hour12: false, month: "2-digit",
    day: "2-digit", hour: "2-digit", minute: "2-digit" });
}

function minutes(seconds) {
  return Math.round((seconds / 60) * 10) / 10;
}

// 90 s → "1.5 分钟 min", 14400 s → "4 小时 h", 604800 s → "7 天 days".
function duration(seconds) {
  const round = (n) => Math.round(n * 10) / 10;
  if (seconds < 120) return `${round(seconds)} 秒 s`;
  if (seconds < 7200) return `${round(seconds / 60)} 分钟 min`;
  if (seconds < 172800) return `${round(seconds / 3600)} 小时 h`;
  return `${round(seconds / 86400)} 天 days`;
}

function asNumber(text) {
  const number = Number(text);
  return text !== "" && Number.isFinite(number) ? number : text;
}

function emptyStaff() {
  return { username: "", display_name: "", role: "technician", team: "repair", password: "",
           apprise_url: "" };
}

document.addEventListener("alpine:init", () => {
  window.Alpine.data("admin", () => ({
    loggedIn: false, me: {}, error: "", notice: "", tab: "staff",
    login: { username: "", password: "" },
    tabs: TABS, roles: ROLES, teams: TEAMS, teamsWithDesk: [...TEAMS, DESK], steps: STEPS,
    estates: [], estateId: "", staff: [], shifts: [], routes: [], contacts: [], units: [],
    rules: [], overrides: [], policy: null, policyMinutes: {}, testResults: {}, testOk: {},
    newStaff: emptyStaff(), editing: null, ruleForm: null,
    newShift: { staff_id: "", team: "repair", start: localInput(new Date()), hours: 12 },
    newRoute: { team: "repair", apprise_url: "" },
    newContact: { unit_id: "", name: "", phone: "", apprise_url: "" },

    get isAdmin() { return this.me.role === "admin"; },
    get estateStaff() {
      return this.staff.filter((p) => p.active && (p.role === "admin" || p.estates.includes(this.estateId)));
    },

    async init() {
      if (sessionStorage.getItem(TOKEN_KEY)) await this.start();
    },

    async run(work, done) {
      this.error = ""; this.notice = "";
      try {
        await work();
        if (done) this.notice = done;
      } catch (error) {
        if (error instanceof Unauthorised) { this.logOut(); this.error = "登录已过期，请重新登录 Session expired: log in again"; return; }
        this.error = `操作失败 Failed: ${error.message}`;
      }
    },

    async logIn() {
      this.error = "";
      const form = new URLSearchParams(this.login);
      const response = await fetch("/api/v1/auth/token", { method: "POST", body: form });
      if (!response.ok) {
        this.error = response.status === 401 ? "用户名或密码错误 Wrong username or password"
                                             : `登录失败 Login failed (${response.status})`;
        return;
      }
      const body = await response.json();
      sessionStorage.setItem(TOKEN_KEY, body.access_token);
      sessionStorage.setItem(NAME_KEY, body.staff?.username ?? "");
      this.login.password = "";
      await this.start();
    },

    logOut() {
      sessionStorage.removeItem(TOKEN_KEY); sessionStorage.removeItem(NAME_KEY);
      this.loggedIn = false; this.me = {};
    },

    async start() {
      await this.run(async () => {
        this.me = await call("GET", "/api/v1/auth/me");
        this.loggedIn = true;
        if (!this.isAdmin) return;
        const [estates, staff, rules] = await Promise.all([
          call("GET", `${ADMIN}/estates`), call("GET", `${ADMIN}/staff`), call("GET", `${ADMIN}/rules`)]);
        this.estates = estates.data; this.staff = staff.data; this.rules = rules.data;
        this.estateId = this.estates.length ? this.estates[0].id : "";
        await this.loadEstate();
      });
    },

    async loadEstate() {
      if (!this.estateId) return;
      const q = `estate=${encodeURIComponent(this.estateId)}`;
      const e = encodeURIComponent(this.estateId);
      const [shifts, routes, contacts, units, policy, overrides] = await Promise.all([
        call("GET", `${ADMIN}/shifts?${q}`), call("GET", `${ADMIN}/alert-routes?${q}`),
        call("GET", `${ADMIN}/unit-contacts?${q}`), call("GET", `${ADMIN}/estates/${e}/units`),
        call("GET", `${ADMIN}/estates/${e}/policy`), call("GET", `${ADMIN}/rule-overrides?${q}`)]);
      this.shifts = shifts.data; this.routes = routes.data; this.contacts = contacts.data;
      this.units = units.data; this.overrides = overrides.data; this.setPolicy(policy);
    },

    async changeEstate() { await this.run(() => this.loadEstate()); },
    show(id) { this.tab = id; this.error = ""; this.notice = ""; },
    tabClass(id) { return this.tab === id ? "active" : ""; },
    estateLabel(estate) { return `${estate.name} (${estate.id})`; },
    roleLabel(id) { return (ROLES.find((r) => r.id === id) || { label: id }).label; },
    teamLabel(id) { return ([...TEAMS, DESK].find((t) => t.id === (id || "")) || { label: id }).label; },
    deviceLabel(type) { return DEVICES[type] || type; },
    estatesOf(person) {
      if (person.role === "admin") return "全部小区 every estate";
      const names = person.estates.map((id) => (this.estates.find((e) => e.id === id) || { name: id }).name);
      return `小区 estates: ${names.join("、") || "—"}`;
    },
    personClass(person) {
      const editing = this.editing && this.editing.id === person.id ? "editing" : "";
      return `${person.active ? "" : "disabled"} ${editing}`;
    },
    staffName(id) { return (this.staff.find((p) => p.id === id) || { display_name: `#${id}` }).display_name; },

    // ---- staff --------------------------------------------------------------------------
    async refreshStaff() { this.staff = (await call("GET", `${ADMIN}/staff`)).data; },

    async addStaff() {
      const body = { ...this.newStaff, estates: [this.estateId], team: this.newStaff.team || null,
                     apprise_url: this.newStaff.apprise_url || null,
                     display_name: this.newStaff.display_name || null };
      await this.run(async () => {
        await call("POST", `${ADMIN}/staff`, body);
        this.newStaff = emptyStaff();
        await this.refreshStaff();
      }, "已添加 Added");
    },

    editStaff(person) {
      this.editing = { id: person.id, display_name: person.display_name, role: person.role,
                       team: person.team || "", estates: [...person.estates],
                       apprise_url: person.apprise_url || "", on_duty: person.on_duty };
    },
    cancelEdit() { this.editing = null; },

    async saveStaff() {
      const e = this.editing;
      const body = { display_name: e.display_name, role: e.role, team: e.team || null,
                     estates: e.estates, apprise_url: e.apprise_url, on_duty: e.on_duty };
      await this.run(async () => {
        await call("PATCH", `${ADMIN}/staff/${e.id}`, body);
        this.editing = null;
        await this.refreshStaff();
      }, "已保存 Saved");
    },

    async setActive(person, active) {
      const question = active ? `启用 ${person.display_name}？ Enable?`
                              : `停用 ${person.display_name}？其登录将立即失效。 Disable? Their sessions end now.`;
      if (!window.confirm(question)) return;
      await this.run(async () => {
        await call("PATCH", `${ADMIN}/staff/${person.id}`, { active });
        await this.refreshStaff();
      }, active ? "已启用 Enabled" : "已停用 Disabled");
    },

    async resetPassword(person) {
      const password = window.prompt(`${person.display_name} 的新密码（至少 8 位） New password (8+ characters)`);
      if (!password) return;
      await this.run(() => call("POST", `${ADMIN}/staff/${person.id}/password`, { password }),
                     "密码已重置 Password reset");
    },

    // ---- rota ---------------------------------------------------------------------------
    shiftsOf(team) { return this.shifts.filter((s) => (s.team || "") === team); },
    shiftTime(shift) { return `${shortTime(shift.starts_at)} → ${shortTime(shift.ends_at)}`; },
    onDutyNow(team) {
      const now = Date.now();
      const names = this.shiftsOf(team)
        .filter((s) => Date.parse(s.starts_at) <= now && now < Date.parse(s.ends_at))
        .map((s) => this.staffName(s.staff_id));
      const byHand = team ? this.staff.filter((p) => p.active && p.on_duty && p.team === team &&
                                               p.estates.includes(this.estateId)).map((p) => p.display_name) : [];
      const all = [...new Set([...names, ...byHand])];
      return all.length ? all.join("、") : "无人 nobody";
    },

    async addShift() {
      const starts = new Date(this.newShift.start);
      const ends = new Date(starts.getTime() + Number(this.newShift.hours) * 3600 * 1000);
      const body = { staff_id: Number(this.newShift.staff_id), estate_id: this.estateId,
                     team: this.newShift.team || null, starts_at: starts.toISOString(),
                     ends_at: ends.toISOString() };
      await this.run(async () => {
        await call("POST", `${ADMIN}/shifts`, body);
        await this.loadEstate();
      }, "已排班 Shift added");
    },

    async removeShift(shift) {
      await this.run(async () => {
        await call("DELETE", `${ADMIN}/shifts/${shift.id}`);
        await this.loadEstate();
      }, "已删除 Removed");
    },

    // ---- alert routes -------------------------------------------------------------------
    routesOf(team) { return this.routes.filter((r) => r.team === team); },
    testClass(id) { return this.testOk[id] ? "good" : "error"; },

    async addRoute() {
      const body = { estate_id: this.estateId, ...this.newRoute };
      await this.run(async () => {
        await call("POST", `${ADMIN}/alert-routes`, body);
        this.newRoute.apprise_url = "";
        await this.loadEstate();
      }, "已添加路由 Route added");
    },

    async removeRoute(route) {
      if (!window.confirm(`删除路由 Remove route ${route.apprise_url}?`)) return;
      await this.run(async () => {
        await call("DELETE", `${ADMIN}/alert-routes/${route.id}`);
        await this.loadEstate();
      }, "已删除 Removed");
    },

    async sendTest(route) {
      this.testResults = { ...this.testResults, [route.id]: "发送中… sending…" };
      await this.run(async () => {
        const result = await call("POST", `${ADMIN}/alert-routes/${route.id}/test`);
        this.testOk = { ...this.testOk, [route.id]: result.sent };
        this.testResults = { ...this.testResults, [route.id]: result.sent
          ? "✓ 已发送 sent" : `✗ 发送失败 not sent: ${result.detail}` };
      });
    },

    // ---- resident contacts --------------------------------------------------------------
    unitLabel(unit) { return `${unit.building_name} ${unit.name}`; },
    unitName(id) {
      const unit = this.units.find((u) => u.id === id);
      return unit ? this.unitLabel(unit) : `#${id}`;
    },

    async addContact() {
      const c = this.newContact;
      const body = { unit_id: Number(c.unit_id), name: c.name, phone: c.phone || null,
                     apprise_url: c.apprise_url || null };
      await this.run(async () => {
        await call("POST", `${ADMIN}/unit-contacts`, body);
        this.newContact = { unit_id: "", name: "", phone: "", apprise_url: "" };
        await this.loadEstate();
      }, "已添加 Added");
    },

    async removeContact(contact) {
      if (!window.confirm(`删除 Remove ${contact.name}?`)) return;
      await this.run(async () => {
        await call("DELETE", `${ADMIN}/unit-contacts/${contact.id}`);
        await this.loadEstate();
      }, "已删除 Removed");
    },

    // ---- deadline policy ----------------------------------------------------------------
    setPolicy(policy) {
      this.policy = policy;
      const shown = {};
      for (const step of STEPS) shown[step.key] = minutes(policy.effective[step.key]);
      this.policyMinutes = shown;
    },
    defaultOf(key) {
      if (!this.policy) return "";
      const now = duration(Math.round(Number(this.policyMinutes[key]) * 60));
      const own = key in this.policy.overrides ? " · 本小区设定 estate's own" : "";
      return `= ${now}${own} · 默认 default ${duration(this.policy.defaults[key])}`;
    },

    async savePolicy() {
      const deadlines = {};
      for (const step of STEPS) {
        const seconds = Math.round(Number(this.policyMinutes[step.key]) * 60);
        if (seconds !== this.policy.defaults[step.key]) deadlines[step.key] = seconds;
      }
      await this.run(async () => {
        this.setPolicy(await call("PUT", `${ADMIN}/estates/${encodeURIComponent(this.estateId)}/policy`, { deadlines }));
      }, "时限已保存 Deadlines saved");
    },

    async restorePolicy() {
      await this.run(async () => {
        this.setPolicy(await call("PUT", `${ADMIN}/estates/${encodeURIComponent(this.estateId)}/policy`, { deadlines: {} }));
      }, "已恢复默认 Defaults restored");
    },

    // ---- rule overrides -----------------------------------------------------------------
    ruleKey(rule) { return `${rule.device_type}/${rule.rule}`; },
    overrideOf(rule) {
      return this.overrides.find((o) => o.device_type === rule.device_type && o.rule === rule.rule) || null;
    },
    overrideLabel(rule) {
      const o = this.overrideOf(rule);
      if (!o) return "";
      if (!o.enabled) return "已关闭 off";
      return `已调整 changed: ${Object.entries(o.params).map(([k, v]) => `${k}=${v}`).join(" ")}`;
    },
    ruleDefaults(rule) {
      const d = rule.defaults;
      const parts = [`${d.priority}`, this.teamLabel(d.team)];
      if (d.field) {
        const byKind = Object.entries(d.by_kind || {})
          .map(([kind, value]) => `${KINDS[kind] || kind} ${value}`).join("，");
        parts.push(`${FIELDS[d.field] || d.field} ${OPS[d.op] || d.op} ${d.value}` +
                   (byKind ? `（${byKind}）` : ""));
      }
      if (d.for_s) parts.push(`持续 for ${duration(d.for_s)}`);
      if (d.in_a_row > 1) parts.push(`连续 ${d.in_a_row} 次 in a row`);
      if (d.count) parts.push(`${duration(d.within_s)}内 ${d.count} 次 times within`);
      if (d.silence_intervals) parts.push(`静默 ${d.silence_intervals} 个周期 silent intervals`);
      return `默认 default: ${parts.join(" · ")}`;
    },

    editRule(rule) {
      const current = this.overrideOf(rule);
      const params = (KIND_PARAMS[rule.kind] || [])
        .filter((name) => name !== "value" || "value" in rule.defaults)
        .map((name) => ({ name, label: PARAMS[name],
                          value: current && name in current.params ? String(current.params[name]) : "",
                          placeholder: name in rule.defaults ? String(rule.defaults[name]) : "" }));
      this.ruleForm = { key: this.ruleKey(rule), rule, enabled: current ? current.enabled : true, params };
    },
    cancelRule() { this.ruleForm = null; },

    async saveOverride() {
      const { rule, enabled } = this.ruleForm;
      const params = {};
      for (const p of this.ruleForm.params) if (p.value !== "") params[p.name] = asNumber(p.value);
      const path = `${ADMIN}/estates/${encodeURIComponent(this.estateId)}/rule-overrides/${rule.device_type}/${rule.rule}`;
      await this.run(async () => {
        await call("PUT", path, { enabled, params });
        this.ruleForm = null;
        await this.loadEstate();
      }, "规则已调整，网关将自动加载 Saved; the gateway picks it up");
    },

    async removeOverride(rule) {
      const path = `${ADMIN}/estates/${encodeURIComponent(this.estateId)}/rule-overrides/${rule.device_type}/${rule.rule}`;
      await this.run(async () => {
        await call("DELETE", path);
        await this.loadEstate();
      }, "已恢复为设备配置 Back to the profile's rule");
    },
  }));
});
