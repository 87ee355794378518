// The work-order board: tabs by status, filters, cards with a live countdown. Refreshes merge
// into the cards by id (Alpine's keyed x-for), so the card under a finger stays where it is.
"use strict";
window.EO = window.EO || {};

EO.BOARD_TABS = ["open", "acknowledged", "in_progress", "resolved", "closed", "cancelled"];
const ACTIVE = new Set(["open", "acknowledged", "in_progress"]);
const PRIORITY_RANK = { P1: 1, P2: 2, P3: 3, P4: 4 };

// The deadline that matters now in each status (5341: acknowledge, plan, resolve).
EO.nextDeadline = (order) => {
  if (order.status === "open") return { key: "dueAck", at: order.ack_due_at };
  if (!ACTIVE.has(order.status)) return null;
  if (order.status === "acknowledged" && order.plan_due_at) {
    return { key: "duePlan", at: order.plan_due_at };
  }
  return { key: "dueResolve", at: order.resolve_due_at };
};

EO.span = (ms, lang) => {
  const total = Math.floor(Math.abs(ms) / 1000);
  const days = Math.floor(total / 86400);
  const hours = Math.floor((total % 86400) / 3600);
  const minutes = Math.floor((total % 3600) / 60);
  const seconds = total % 60;
  const units = lang === "en" ? ["d", "h", "m", "s"] : ["天", "小时", "分", "秒"];
  if (days) return `${days}${units[0]}${hours}${units[1]}`;
  if (hours) return `${hours}${units[1]}${minutes}${units[2]}`;
  return `${minutes}${units[2]}${String(seconds).padStart(2, "0")}${units[3]}`;
};

// 龙涤小区 41号楼2单元 管道井; a location that already names its building is not repeated.
EO.placeWords = (estate, buildingName, unitName, location) => {
  const names = [buildingName, unitName].filter(Boolean);
  const named = location && names.length && names.every((name) => location.includes(name));
  return [estate, named ? "" : names.join(""), location].filter(Boolean).join(" ");
};

EO.placeText = (order) => EO.placeWords(order.estate_name || order.estate_id, order.building_name,
                                        order.unit_name, order.location);

EO.boardPart = () => ({
  tabs: EO.BOARD_TABS,
  tab: "open",
  filters: { mine: false, myTeam: false, estate: "", priority: "", overdue: false, source: "" },
  orders: [],
  orderCount: 0,
  boardLoaded: false,
  cue: null,
  fresh: {},

  async loadBoard() {
    const filters = this.filters;
    const params = EO.query({
      status: this.tab, estate: filters.estate, priority: filters.priority,
      source: filters.source, overdue: filters.overdue ? "true" : "",
      assignee: filters.mine && this.me ? this.me.id : "",
      team: filters.myTeam && this.me ? this.me.team : "", limit: 200,
    });
    const body = await this.guard(EO.api(`/api/v1/work-orders?${params}`));
    if (!body) return;
    this.mergeOrders(body.data);
    this.orderCount = body.count;
    this.boardLoaded = true;
  },

  mergeOrders(incoming) {
    const known = new Map(this.orders.map((order) => [order.id, order]));
    const merged = incoming.map((order) => {
      const existing = known.get(order.id);
      if (!existing) return order;
      Object.assign(existing, order);
      return existing;
    });
    merged.sort((a, b) => (PRIORITY_RANK[a.priority] - PRIORITY_RANK[b.priority]) ||
                          (a.created_at < b.created_at ? 1 : -1));
    this.orders = merged;
  },

  selectTab(tab) {
    if (this.tab === tab) return;
    this.tab = tab;
    this.orders = [];
    this.boardLoaded = false;
    this.loadBoard();
  },
  tabClass(tab) { return this.tab === tab ? "tab selected" : "tab"; },
  toggleFilter(name) {
    this.filters[name] = !this.filters[name];
    this.loadBoard();
  },
  chipClass(name) { return this.filters[name] ? "chip on" : "chip"; },
  boardEmpty() { return this.boardLoaded && this.orders.length === 0; },

  statusText(status) { return EO.word(EO.STATUS, status, this.lang); },
  teamText(team) { return team ? EO.word(EO.TEAMS, team, this.lang) : ""; },
  sourceText(source) { return EO.word(EO.SOURCES, source, this.lang); },
  ledgerText(colour) { return EO.word(EO.LEDGER, colour, this.lang); },
  orderTitle(order) {
    return this.lang === "en" ? (order.title_en || order.title_zh) : (order.title_zh || order.title_en);
  },
  placeText(order) { return EO.placeText(order); },
  conditionOf(order) { return EO.conditionOf(order, (key) => this.t(key)); },
  estateOptions() { return EO.estateOptions(this.summary); },
  deviceText(order) {
    if (!order.device) return "";
    return order.device.display_name || order.device.device_id;
  },
  assigneeText(order) { return order.assignee_name || this.t("unassigned"); },
  recurrenceText(order) {
    return order.recurrence_count ? `${this.t("recurred")} ×${order.recurrence_count}` : "";
  },
  cardClass(order) {
    const late = this.isLate(order) ? " late" : "";
    const fresh = this.fresh[order.id] ? " fresh" : "";
    return `card ledger-${order.ledger_colour}${late}${fresh}`;
  },
  priorityClass(order) { return `priority ${order.priority}`; },
  isLate(order) {
    const due = EO.nextDeadline(order);
    return Boolean(due && due.at && new Date(due.at).getTime() < this.now);
  },
  countdown(order) {
    const due = EO.nextDeadline(order);
    if (!due || !due.at) return "";
    const left = new Date(due.at).getTime() - this.now;
    const span = EO.span(left, this.lang);
    return left >= 0 ? `${this.t(due.key)} ${this.t("left")} ${span}`
                     : `${this.t(due.key)} ${this.t("overdue")} ${span}`;
  },
  countdownClass(order) { return this.isLate(order) ? "countdown late" : "countdown"; },

  // A live alert: say so (visibly and audibly), then merge the board; never a full reload.
  // New and escalated orders concern everyone on duty; an assignment only its assignee.
  onAlert(alert) {
    const forMe = alert.kind === "assigned" && this.me && Number(alert.assignee_id) === this.me.id;
    if (alert.kind !== "created" && alert.kind !== "escalated" && !forMe) return;
    const id = Number(alert.work_order_id);
    this.fresh = { ...this.fresh, [id]: true };
    this.cue = { kind: alert.kind, count: ((this.cue && this.cue.count) || 0) + 1,
                 title: this.lang === "en" ? alert.title_en : alert.title_zh, id };
    EO.beep();
    if (this.view === "board") this.loadBoard();
  },
  cueText() {
    if (!this.cue) return "";
    const words = { escalated: "escalatedOrders", assigned: "assignedToMe" };
    const what = this.t(words[this.cue.kind] || "newOrders");
    return `${what} ${this.cue.count}: ${this.cue.title || ""}`;
  },
  openCue() {
    const id = this.cue && this.cue.id;
    this.cue = null;
    if (id) this.go(`#/orders/${id}`);
  },
  dismissCue() { this.cue = null; },
});

// The live state of the rule's condition, when the API sends it (optional field).
EO.conditionOf = (order, t) => {
  const condition = order.condition;
  if (!condition) return "";
  return condition.active ? t("conditionActive") : "";
};
