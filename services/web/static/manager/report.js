// The monthly report of one estate for the joint meeting (联席会议) of property, street office
// and residents: one printable page with the month's figures (?estate=...&month=YYYY-MM).
"use strict";

document.addEventListener("alpine:init", () => {
  Alpine.data("report", () => ({
    ready: false, error: "", estate: "", month: "",
    title: "", subtitle: "", headline: [], board: [], weeks: [], ledger: [], repeats: [],

    init() {
      const params = new URLSearchParams(location.search);
      this.estate = params.get("estate") || "";
      this.month = params.get("month") || EOM.thisMonth();
      if (!EOM.token()) { this.error = "请先在经理看板登录 Log in on the manager page first"; return; }
      this.load();
    },

    get backHref() { return `/manager?${EOM.query({ month: this.month })}`; },
    get hasRepeats() { return this.repeats.length > 0; },
    print() { window.print(); },

    async load() {
      try {
        const figures = await EOM.call(
          `${EOM.REPORTS}/figures?${EOM.query({ estate: this.estate, month: this.month })}`);
        this.show(figures);
        this.ready = true;
        this.$nextTick(() => EOM.weekChart(this.$refs.weeks, this.weeks));
      } catch (problem) { this.error = problem.message; }
    },

    show(figures) {
      const estate = figures.estates[0] || { name: this.estate, zone_name: null };
      const [year, month] = this.month.split("-");
      this.title = `${estate.name} ${year}年${Number(month)}月物业服务月报`;
      this.subtitle = `联席会议材料 · ${estate.zone_name || ""} · 统计期 ${figures.label}`;
      const total = figures.board.find((row) => row.group === "estate") || null;
      const rank = figures.ranking[0] || {};
      const rated = figures.weeks.reduce((sum, w) => sum + w.rated, 0);
      const reports = figures.weeks.reduce((sum, w) => sum + w.resident_reports, 0);
      this.headline = [
        { key: "orders", label: "工单 orders", value: total ? total.count : 0 },
        { key: "ack", label: "5分钟接单率 ack", value: total ? EOM.pct(total.ack) : "—" },
        { key: "resident", label: "居民报事 resident reports", value: reports },
        { key: "rating", label: "满意度 rating", value: EOM.num(rank.rating_avg, 2) },
        { key: "simple", label: "30分钟简单维修 simple", value: total ? EOM.pct(total.simple) : "—" },
        { key: "complex", label: "4小时复杂维修 complex", value: total ? EOM.pct(total.complex) : "—" },
        { key: "plan", label: "1天外协方案 plan", value: total ? EOM.pct(total.plan) : "—" },
        { key: "rated", label: "已评价 rated", value: rated },
      ];
      this.board = figures.board.filter((row) => row.group !== "zone").map(EOM.boardRow)
        .map((row) => (row.group === "estate" ? { ...row, name: "合计 total" } : row));
      this.weeks = figures.weeks.map((week) => ({
        ...week, rating: EOM.num(week.rating_avg, 2),
        rate: week.response_rate_pct === null ? "—" : `${week.response_rate_pct}%` }));
      this.ledger = figures.ledger.map((row) => ({ ...row, label: EOM.COLOURS[row.colour],
                                                   cls: `dot ${row.colour}` }));
      this.repeats = figures.repeats;
    },
  }));
});
