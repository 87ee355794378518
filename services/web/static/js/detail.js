// One work order: what and where, the actions the API says the caller may take, the
// timeline, the triggering readings and a chart of the device's recent telemetry.
"use strict";
window.EO = window.EO || {};

// Actions that need words or a choice first; the others run on one tap.
const NEEDS_FORM = new Set(["assign", "comment", "resolve", "cancel"]);

EO.detailPart = () => ({
  order: null,
  pending: null,
  noteText: "",
  assigneeId: "",
  assignTeam: "",
  assignees: [],
  actionError: "",
  busy: false,
  orderDevice: null,

  async loadOrder(id) {
    const order = await this.guard(EO.api(`/api/v1/work-orders/${id}`));
    if (!order) return;
    this.order = order;
    this.fresh = { ...this.fresh, [order.id]: false };
    if (this.cue && this.cue.id === order.id) this.cue = null;
    if (order.device && (!this.orderDevice || this.orderDevice.device_id !== order.device.device_id)) {
      this.loadOrderDevice(order);
    }
  },

  async loadOrderDevice(order) {
    const path = `/api/v1/estates/${encodeURIComponent(order.estate_id)}/devices/` +
                 `${encodeURIComponent(order.device.device_id)}`;
    const device = await this.guard(EO.api(path));
    if (!device) return;
    this.orderDevice = device;
    const field = this.fieldOfOrder(order, device);
    if (field) this.$nextTick(() => this.drawInto("order-chart", device, field, "1h"));
  },

  // Chart the field the order's rule compares if it can be charted, else the first one.
  fieldOfOrder(order, device) {
    const compared = new Set((device.rule_fields || {})[order.rule] || []);
    return device.chart_fields.find((field) => compared.has(field.field)) || device.chart_fields[0];
  },

  async drawInto(canvasId, device, field, range) {
    const points = await this.guard(EO.history(device, field, range));
    const canvas = document.getElementById(canvasId);
    if (points && canvas) EO.drawChart(canvas, points, field, range);
  },

  readOnly() { return Boolean(this.order && this.order.allowed_actions.length === 0); },
  allows(action) { return Boolean(this.order && this.order.allowed_actions.includes(action)); },
  actionText(action) { return EO.word(EO.ACTIONS, action, this.lang); },
  actionClass(action) { return `action ${action}`; },
  isPending(name) { return this.pending === name; },
  conditionActive() { return Boolean(this.order && this.order.condition && this.order.condition.active); },
  hasCondition() { return Boolean(this.order && this.order.condition); },
  conditionText() {
    const condition = this.order && this.order.condition;
    if (!condition) return "";
    if (condition.active) {
      return `${this.t("conditionActive")} (${this.t("since")} ${this.when(condition.since)})`;
    }
    return condition.cleared_at ? `${this.t("conditionCleared")} (${this.when(condition.cleared_at)})` : "";
  },

  async act(action) {
    this.actionError = "";
    const formNeeded = NEEDS_FORM.has(action) || (action === "close" && this.conditionActive());
    if (formNeeded) {
      this.pending = action;
      this.noteText = "";
      if (action === "assign") await this.loadAssignees();
      return;
    }
    await this.send(action, {});
  },

  async loadAssignees() {
    const body = await this.guard(EO.api(`/api/v1/work-orders/${this.order.id}/assign/candidates`));
    this.assignees = body ? body.data : [];
    this.assigneeId = this.order.assignee_id ? String(this.order.assignee_id) : "";
    this.assignTeam = "";
  },
  personValue(person) { return String(person.id); },
  assigneeLabel(person) {
    return person.team ? `${person.name} · ${this.teamText(person.team)}` : person.name;
  },

  async confirmPending() {
    const action = this.pending;
    if (action === "assign") {
      await this.send("assign", { assignee_id: this.assigneeId ? Number(this.assigneeId) : null,
                                  team: this.assignTeam || null });
    } else if (action === "comment") {
      if (!this.noteText.trim()) return;
      await this.send("comments", { text: this.noteText.trim() });
    } else {
      if (action === "resolve" && !this.noteText.trim()) return;
      const body = { note: this.noteText.trim() || null };
      // The form told the user the sensor still reports the fault; sending is the confirmation.
      if (action === "close" && this.conditionActive()) body.confirm = true;
      await this.send(action, body);
    }
  },
  cancelPending() { this.pending = null; this.actionError = ""; },
  notePlaceholder() {
    const keys = { comment: "commentText", resolve: "resolveNote", cancel: "cancelNote", close: "note" };
    return this.t(keys[this.pending] || "note");
  },

  async send(path, json) {
    this.busy = true;
    try {
      await EO.api(`/api/v1/work-orders/${this.order.id}/${path}`, { method: "POST", json });
      this.pending = null;
      this.noteText = "";
      await this.loadOrder(this.order.id);
    } catch (error) {
      if (!(error instanceof EO.Unauthorised)) this.actionError = EO.errorText(error, this.lang, "failed");
    } finally {
      this.busy = false;
    }
  },

  canAddPhoto() { return Boolean(this.order && this.order.allowed_actions.includes("comment")); },
  async uploadPhoto(event) {
    const file = event.target.files && event.target.files[0];
    event.target.value = "";
    if (!file || !this.order) return;
    await this.sendPhoto(file);
  },
  async sendPhoto(file) {
    this.busy = true;
    this.actionError = "";
    try {
      await EO.api(`/api/v1/work-orders/${this.order.id}/photos`, { method: "POST", body: file,
        headers: { "Content-Type": file.type || "application/octet-stream" } });
      await this.loadOrder(this.order.id);
    } catch (error) {
      if (!(error instanceof EO.Unauthorised)) this.actionError = EO.errorText(error, this.lang, "failed");
    } finally {
      this.busy = false;
    }
  },

  events() { return this.order ? this.order.events.slice().reverse() : []; },
  eventKind(event) { return EO.word(EO.EVENTS, event.kind, this.lang); },
  eventActor(event) {
    return EO.ACTORS[event.actor] ? EO.word(EO.ACTORS, event.actor, this.lang) : event.actor_name;
  },
  eventDetail(event) {
    const data = event.data || {};
    if (event.kind === "recurred") return `×${data.recurrence_count}`;
    if (event.kind === "escalated") return [data.deadline, data.level ? `L${data.level}` : ""].filter(Boolean).join(" ");
    if (data.from && data.to) return `${this.statusText(data.from)} → ${this.statusText(data.to)}`;
    if (event.kind === "alerted") return this.alertedText(data);
    if (event.kind === "assigned") {
      const who = data.assignee_name || this.t("nobody");
      return data.team ? `→ ${who} · ${this.teamText(data.team)}` : `→ ${who}`;
    }
    return "";
  },
  // Whom an alert reached, in names: staff, the team's group routes, the unit's residents.
  alertedText(data) {
    const zh = this.lang === "zh";
    const told = [...(data.staff || []), ...(data.residents || []).map((name) => `${zh ? "住户" : "resident"} ${name}`)];
    if (data.team_routes) told.push(zh ? `${data.team_routes} 个群` : `${data.team_routes} group route(s)`);
    if (!told.length) return zh ? "无人接收（请设置值班或通知渠道）" : "nobody (set a rota or alert route)";
    const failed = data.staff_sent === false && (data.staff || []).length + (data.team_routes || 0) > 0;
    return `→ ${told.join("、")}${failed ? (zh ? "（发送失败）" : " (not delivered)") : ""}`;
  },
  // The service writes English notes for assignments; the detail line says it in the page's words.
  eventNote(event) { return event.kind === "assigned" && event.data ? "" : event.note; },
  eventClass(event) { return `event ${event.kind}`; },
  readings() {
    const raised = this.order && this.order.events.find((event) => event.kind === "raised");
    const readings = (raised && raised.data && raised.data.readings) || [];
    return readings.map((reading, index) => ({
      key: index, at: this.when(reading.time), text: EO.readingText(reading.values || reading) }));
  },
  hasReadings() { return this.readings().length > 0; },
});

EO.readingText = (reading) => Object.entries(reading)
  .map(([key, value]) => `${key}=${typeof value === "string" ? value : JSON.stringify(value)}`)
  .join("  ");
