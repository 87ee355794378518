// EstateOps manager page: the 5341 board, charts of weekly trends, the three-colour ledger,
// overdue items, repeat faults and the ranking of estates, filtered by zone, estate and month,
// exportable as CSV and XLSX. Chart objects live outside Alpine's reactive state.
"use strict";

document.addEventListener("alpine:init", () => {
  Alpine.data("manager", () => ({
    loggedIn: false, loading: false, error: "",
    login: { username: "", password: "" },
    filters: { month: "", zone: "", estate: "" },
    zones: [], estates: [], allEstates: [],
    label: "", board: [], ledger: [], overdue: [], repeats: [], ranking: [], weeks: [],
    groupFilter: "estate",

    init() {
      const params = new URLSearchParams(location.search);
      this.filters.month = params.get("month") || EOM.thisMonth();
      this.filters.zone = params.get("zone") || "";
      this.filters.estate = params.get("estate") || "";
      if (EOM.token()) this.load();
    },

    async logIn() {
      this.error = "";
      try {
        await EOM.logIn(this.login.username, this.login.password);
        this.login.password = "";
        await this.load();
      } catch (problem) { this.error = problem.message; }
    },

    logOut() {
      sessionStorage.removeItem(EOM.TOKEN_KEY);
      this.loggedIn = false;
    },

    async load() {
      this.loading = true; this.error = "";
      try {
        const query = EOM.query(this.filters);
        const figures = await EOM.call(`${EOM.REPORTS}/figures?${query}`);
        this.loggedIn = true;
        this.show(figures);
        if (!this.allEstates.length) this.remember(await EOM.call(`${EOM.REPORTS}/estates`));
        history.replaceState(null, "", `/manager?${query}`);
      } catch (problem) {
        this.error = problem.message;
        this.loggedIn = Boolean(EOM.token());
      } finally { this.loading = false; }
    },

    remember(estates) {
      this.allEstates = estates;
      const zones = new Map();
      estates.forEach((e) => { if (e.zone_id) zones.set(e.zone_id, e.zone_name || e.zone_id); });
      this.zones = [...zones].map(([id, name]) => ({ id, name }));
      this.pickEstates();
    },

    pickEstates() {
      const zone = this.filters.zone;
      this.estates = this.allEstates.filter((e) => !zone || e.zone_id === zone);
    },

    show(figures) {
      this.label = figures.label;
      this.board = figures.board.map(EOM.boardRow);
      this.ledger = figures.ledger.map((row, index, all) => ({
        ...row, id: `${row.estate_id}:${row.colour}`,
        estate_name: index && all[index - 1].estate_id === row.estate_id ? "" : row.estate_name,
                                                   colourLabel: EOM.COLOURS[row.colour],
                                                   cls: `dot ${row.colour}` }));
      this.overdue = figures.overdue.map((item) => ({
        id: item.id, cls: `dot ${item.colour}`, text: `#${item.id} ${item.title_zh}`,
        href: `/#/orders/${item.id}`,  // the staff console's detail, timeline and actions
        sub: `${EOM.TEAMS[item.team] || item.team} · 时限 due ` +
             new Date(item.due_at).toLocaleString("zh-CN", { hour12: false }) }));
      const names = new Map(figures.estates.map((e) => [e.id, e.name]));
      this.repeats = figures.repeats.map((row) => ({
        ...row, id: `${row.estate_id}/${row.device_id}`,
        where: `${names.get(row.estate_id) || row.estate_id} / ${row.device_id} · 工单 ${row.work_orders} + 复发 ${row.recurrences}` }));
      this.ranking = figures.ranking.map((row) => ({
        ...row, score: EOM.num(row.score, 1), ack: EOM.num(row.ack_pct, 1),
        resolve: EOM.num(row.resolve_pct, 1), rating: EOM.num(row.rating_avg, 2),
        href: `/manager/report?${EOM.query({ estate: row.estate_id, month: this.filters.month })}` }));
      this.weeks = figures.weeks;
      this.$nextTick(() => this.draw());
    },

    draw() {
      EOM.weekChart(this.$refs.weeks, this.weeks);
      EOM.categoryChart(this.$refs.categories, this.weeks);
    },

    get shownBoard() { return this.board.filter((row) => row.group === this.groupFilter); },
    groupClass(group) { return group === this.groupFilter ? "tab active" : "tab"; },
    pickGroup(group) { this.groupFilter = group; },
    changeZone() { this.filters.estate = ""; this.pickEstates(); this.load(); },
    get hasOverdue() { return this.overdue.length > 0; },
    get hasRepeats() { return this.repeats.length > 0; },

    async download(kind) {
      this.error = "";
      try {
        const query = EOM.query(this.filters);
        const path = kind === "xlsx" ? `${EOM.REPORTS}/figures.xlsx?${query}`
                                     : `${EOM.REPORTS}/figures.csv?${query}&table=board`;
        const blob = await EOM.call(path, true);
        const link = document.createElement("a");
        link.href = URL.createObjectURL(blob);
        link.download = `estateops-${this.filters.month}.${kind}`;
        link.click();
        setTimeout(() => URL.revokeObjectURL(link.href), 1000);
      } catch (problem) { this.error = problem.message; }
    },
    downloadCsv() { return this.download("csv"); },
    downloadXlsx() { return this.download("xlsx"); },
  }));
});
