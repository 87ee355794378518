// The staff console: one Alpine component (CSP build: no inline script, no eval) made of the
// parts in board.js, detail.js and devices.js; routes are the URL's hash.
"use strict";
window.EO = window.EO || {};

const LANG_KEY = "estateops.lang";
const REFRESH_MS = 30000;

EO.basePart = () => ({
  lang: localStorage.getItem(LANG_KEY) || "zh",
  me: null,
  signedIn: false,
  view: "board",
  now: Date.now(),
  username: "",
  password: "",
  loginError: "",
  expiredNotice: false,
  loadError: "",
  streamUp: false,
  streamAbort: null,
  timers: [],

  init() {
    EO.onExpired = () => this.expire();
    document.documentElement.lang = this.lang === "en" ? "en" : "zh-CN";
    window.addEventListener("hashchange", () => this.route());
    if (EO.token()) this.begin();
  },

  t(key) { return EO.word(EO.WORDS, key, this.lang); },
  switchLang() {
    this.lang = this.lang === "en" ? "zh" : "en";
    localStorage.setItem(LANG_KEY, this.lang);
    document.documentElement.lang = this.lang === "en" ? "en" : "zh-CN";
  },
  langSwitchText() { return this.lang === "en" ? "中文" : "English"; },
  when(iso) {
    if (!iso) return "—";
    return new Date(iso).toLocaleString(this.lang === "en" ? "en-GB" : "zh-CN", {
      hour12: false, month: "2-digit", day: "2-digit", hour: "2-digit", minute: "2-digit",
      second: "2-digit" });
  },
  isAdmin() { return Boolean(this.me && this.me.role === "admin"); },
  // The 5341 figures are for those who answer for them, not for the technician on a job.
  seesFigures() { return Boolean(this.me && this.me.role !== "technician"); },
  whoName() { return this.me ? this.me.display_name || this.me.username : ""; },
  roleText() { return this.me ? EO.word(EO.ROLES, this.me.role, this.lang) : ""; },
  isView(name) { return this.signedIn && this.view === name; },
  navClass(name) { return this.view === name || (name === "board" && this.view === "order") ||
                          (name === "devices" && this.view === "device") ? "nav on" : "nav"; },
  go(hash) { if (location.hash === hash) this.route(); else location.hash = hash; },

  // Failed loads show a line at the top; an expired session has already been handled.
  async guard(promise) {
    try {
      const value = await promise;
      this.loadError = "";
      return value;
    } catch (error) {
      if (!(error instanceof EO.Unauthorised)) this.loadError = EO.errorText(error, this.lang, "loadFailed");
      return null;
    }
  },

  async logIn() {
    this.loginError = "";
    const form = new URLSearchParams({ username: this.username, password: this.password });
    let response;
    try {
      response = await fetch("/api/v1/auth/token", { method: "POST", body: form });
    } catch (error) {
      this.loginError = `${this.t("unreachable")} (${error.message})`;
      return;
    }
    if (!response.ok) {
      this.loginError = response.status === 401 ? this.t("wrongPassword")
                                                : `${this.t("loginFailed")} (${response.status})`;
      return;
    }
    const body = await response.json();
    sessionStorage.setItem(EO.TOKEN_KEY, body.access_token);
    sessionStorage.setItem(EO.EXPIRES_KEY, body.expires_at);
    this.password = "";
    this.expiredNotice = false;
    this.begin();
  },

  async begin() {
    const me = await this.guard(EO.api("/api/v1/auth/me"));
    if (!me) return;
    this.me = me;
    this.signedIn = true;
    this.startTimers();
    this.followStream();
    this.loadSummary();
    this.route();
  },

  startTimers() {
    this.stopTimers();
    this.timers.push(setInterval(() => { this.now = Date.now(); this.checkExpiry(); }, 1000));
    this.timers.push(setInterval(() => this.refreshView(), REFRESH_MS));
  },
  stopTimers() { this.timers.forEach(clearInterval); this.timers = []; },
  checkExpiry() {
    const expires = sessionStorage.getItem(EO.EXPIRES_KEY);
    if (expires && new Date(expires).getTime() <= this.now) this.expire();
  },

  followStream() {
    if (this.streamAbort) this.streamAbort.abort();
    const abort = new AbortController();
    this.streamAbort = abort;
    EO.followAlerts(abort, (event) => this.onStreamEvent(event), (up) => { this.streamUp = up; });
  },
  onStreamEvent(event) {
    if (event.event === "ready") {
      // Connected again: what arrived meanwhile is read now, merged like any refresh.
      if (!this.streamUp && this.view === "board") this.loadBoard();
      this.streamUp = true;
    }
    else if (event.event === "alert" && event.data) this.onAlert(JSON.parse(event.data));
  },
  streamText() { return this.streamUp ? this.t("live") : this.t("offlineStream"); },
  streamClass() { return this.streamUp ? "stream up" : "stream down"; },

  // Never a silent drop: the login form comes back with the reason.
  expire() {
    if (!this.signedIn && !EO.token()) return;
    this.end();
    this.expiredNotice = true;
  },
  logOut() { this.end(); this.expiredNotice = false; },
  end() {
    sessionStorage.removeItem(EO.TOKEN_KEY);
    sessionStorage.removeItem(EO.EXPIRES_KEY);
    this.stopTimers();
    if (this.streamAbort) this.streamAbort.abort();
    this.signedIn = false;
    this.me = null;
  },

  route() {
    if (!this.signedIn) return;
    const parts = location.hash.replace(/^#\/?/, "").split("/").map(decodeURIComponent);
    this.pending = null;
    if (parts[0] === "orders" && parts[1]) {
      this.view = "order";
      if (!this.order || this.order.id !== Number(parts[1])) { this.order = null; this.orderDevice = null; }
      this.loadOrder(Number(parts[1]));
    } else if (parts[0] === "devices" && parts[2]) {
      this.view = "device";
      this.device = null;
      this.loadDevice(parts[1], parts[2]);
    } else if (parts[0] === "devices") {
      this.view = "devices";
      this.loadDevices();
    } else {
      this.view = "board";
      this.loadBoard();
    }
    window.scrollTo(0, 0);
  },
  refreshView() {
    if (this.view === "board") this.loadBoard();
    else if (this.view === "order" && this.order && !this.pending) this.loadOrder(this.order.id);
  },
  goBoard() { this.go("#/"); },
  goDevices() { this.go("#/devices"); },
  openOrder(order) { this.go(`#/orders/${order.id}`); },
  openDevice(device) { this.go(this.deviceHref(device)); },
  openOrderDevice() {
    if (this.order && this.order.device) {
      this.go(this.deviceHref({ estate_id: this.order.estate_id, device_id: this.order.device.device_id }));
    }
  },
});

document.addEventListener("alpine:init", () => {
  Alpine.data("staffConsole", () => ({
    ...EO.basePart(), ...EO.boardPart(), ...EO.detailPart(), ...EO.devicesPart(),
  }));
});
