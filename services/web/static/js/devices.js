// Devices: counts per estate and building, a searchable server-side paged list, and one
// device's page with its last state, its work orders and telemetry charts.
"use strict";
window.EO = window.EO || {};

const PAGE_SIZE = 25;

EO.devicesPart = () => ({
  summary: [],
  deviceFilters: { q: "", state: "", estate: "", building: "" },
  devicesList: [],
  deviceCount: 0,
  devicePage: 0,
  device: null,
  deviceOrders: [],
  range: "24h",
  chartField: "",

  async loadDevices() {
    await Promise.all([this.loadSummary(), this.loadDeviceList()]);
  },
  devicesParams() {
    const filters = this.deviceFilters;
    const state = { online: { online: "true" }, offline: { online: "false" },
                    anomaly: { anomaly: "true" } }[filters.state] || {};
    return { q: filters.q.trim(), estate: filters.estate, building: filters.building, ...state };
  },
  async loadSummary() {
    const filters = this.deviceFilters;
    const body = await this.guard(EO.api(`/api/v1/devices/summary?${EO.query({ q: filters.q.trim() })}`));
    if (body) this.summary = body.data.map((row) => ({ ...row, key: `${row.estate_id}/${row.building_code}` }));
  },
  async loadDeviceList() {
    const params = EO.query({ ...this.devicesParams(), limit: PAGE_SIZE,
                              offset: this.devicePage * PAGE_SIZE });
    const body = await this.guard(EO.api(`/api/v1/devices?${params}`));
    if (!body) return;
    this.devicesList = body.data;
    this.deviceCount = body.count;
  },
  searchDevices() {
    this.devicePage = 0;
    this.loadDevices();
  },
  pickBuilding(row) {
    const same = this.deviceFilters.estate === row.estate_id &&
                 this.deviceFilters.building === (row.building_code || "");
    this.deviceFilters.estate = same ? "" : row.estate_id;
    this.deviceFilters.building = same ? "" : (row.building_code || "");
    this.devicePage = 0;
    this.loadDeviceList();
  },
  buildingClass(row) {
    const picked = this.deviceFilters.estate === row.estate_id &&
                   this.deviceFilters.building === (row.building_code || "");
    return picked ? "building picked" : "building";
  },
  countClass(row, what) { return row[what] > 0 ? `n ${what}` : "n"; },
  buildingName(row) { return row.building_name || this.t("otherPlaces"); },
  pageText() {
    const pages = Math.max(1, Math.ceil(this.deviceCount / PAGE_SIZE));
    return `${this.devicePage + 1} / ${pages} ${this.t("page")} · ${this.t("total")} ${this.deviceCount}`;
  },
  hasPrev() { return this.devicePage > 0; },
  hasNext() { return (this.devicePage + 1) * PAGE_SIZE < this.deviceCount; },
  prevPage() { if (this.hasPrev()) { this.devicePage -= 1; this.loadDeviceList(); } },
  nextPage() { if (this.hasNext()) { this.devicePage += 1; this.loadDeviceList(); } },

  deviceName(device) { return device.display_name || device.device_id; },
  deviceType(device) {
    return (this.lang === "en" ? device.type_name_en : device.type_name_zh) || device.device_type;
  },
  devicePlace(device) {
    return EO.placeWords(device.estate_name || device.estate_id, device.building && device.building.name,
                         device.unit && device.unit.name, device.location);
  },
  deviceKey(device) { return `${device.estate_id}/${device.device_id}`; },
  deviceHref(device) {
    return `#/devices/${encodeURIComponent(device.estate_id)}/${encodeURIComponent(device.device_id)}`;
  },
  stateText(device) {
    if (device.anomaly) return this.t("anomaly");
    if (device.online === null) return this.t("never");
    return device.online ? this.t("online") : this.t("offline");
  },
  stateClass(device) {
    if (device.anomaly) return "state anomaly";
    if (device.online === null) return "state never";
    return device.online ? "state online" : "state offline";
  },
  telemetryText(device) { return device.last_telemetry ? EO.readingText(device.last_telemetry) : "—"; },

  async loadDevice(estateId, deviceId) {
    const path = `/api/v1/estates/${encodeURIComponent(estateId)}/devices/${encodeURIComponent(deviceId)}`;
    const device = await this.guard(EO.api(path));
    if (!device) return;
    this.device = device;
    if (!device.chart_fields.some((field) => field.field === this.chartField)) {
      this.chartField = device.chart_fields.length ? device.chart_fields[0].field : "";
    }
    const orders = await this.guard(EO.api(`/api/v1/work-orders?${EO.query({
      estate: estateId, device: deviceId, limit: 50 })}`));
    this.deviceOrders = orders ? orders.data : [];
    this.$nextTick(() => this.drawDeviceChart());
  },
  drawDeviceChart() {
    const field = this.device && this.device.chart_fields.find((one) => one.field === this.chartField);
    if (field) this.drawInto("device-chart", this.device, field, this.range);
  },
  pickRange(range) { this.range = range; this.drawDeviceChart(); },
  rangeClass(range) { return this.range === range ? "chip on" : "chip"; },
  pickField(field) { this.chartField = field.field; this.drawDeviceChart(); },
  fieldClass(field) { return this.chartField === field.field ? "chip on" : "chip"; },
  fieldLabel(field) { return field.unit ? `${field.field} (${field.unit})` : field.field; },
});

EO.estateOptions = (summary) => {
  const seen = new Map();
  for (const row of summary) seen.set(row.estate_id, row.estate_name);
  return [...seen].map(([id, name]) => ({ id, name }));
};
