// The progress page behind a resident's progress link: status, who took it, when, the staff's
// notes and the photos; once resolved, a 1-5 rating. Alpine CSP build: no inline script.
"use strict";

const PROGRESS_REFRESH_MS = 30000;

document.addEventListener("alpine:init", () => {
  Alpine.data("residentProgress", () => ({
    state: "loading", // loading | refused | shown
    refusal: "",
    order: null,
    rating: 0,
    comment: "",
    error: "",
    sending: false,
    thanks: "",

    async init() {
      await this.load();
      setInterval(() => { if (this.state === "shown") this.load(); }, PROGRESS_REFRESH_MS);
    },

    apiPath() {
      const token = window.location.pathname.split("/")[2] || "";
      return `/api/v1/resident/progress/${encodeURIComponent(token)}`;
    },
    async load() {
      try {
        this.order = await RES.call(this.apiPath());
        this.state = "shown";
      } catch (error) {
        if (this.state !== "shown") { this.refusal = error.message; this.state = "refused"; }
      }
    },

    isState(name) { return this.state === name; },
    field(name) { return this.order ? this.order[name] : ""; },
    statusText() { return this.order ? (RES.STATUS[this.order.status] || this.order.status) : ""; },
    statusClass() { return this.order ? `status status-${this.order.status}` : "status"; },
    when(iso) { return RES.when(iso); },
    heading() { return this.order && this.order.via_notice ? "维修进度" : "报修进度"; },
    reportedLabel() { return this.order && this.order.via_notice ? "发现时间" : "报修时间"; },
    takenBy() { return this.order && this.order.taken_by ? this.order.taken_by : "尚未接单"; },
    notes() { return this.order ? this.order.notes : []; },
    photos() { return this.order ? this.order.photos : []; },
    hasNotes() { return this.notes().length > 0; },
    hasPhotos() { return this.photos().length > 0; },
    photoWho(photo) { return `${photo.by_resident ? "您上传的" : photo.by} · ${RES.when(photo.at)}`; },
    photoNote(photo) { return photo.note || ""; },
    canRate() { return Boolean(this.order && this.order.can_rate) && !this.thanks; },
    rated() { return Boolean(this.order && this.order.rating); },
    ratedText() {
      if (!this.rated()) return "";
      const comment = this.order.rating_comment ? `：${this.order.rating_comment}` : "";
      return `您的评价：${"★".repeat(this.order.rating)}${"☆".repeat(5 - this.order.rating)}${comment}`;
    },
    starClass(value) { return value <= this.rating ? "star on" : "star"; },
    pick(value) { this.rating = value; this.error = ""; },
    showThanks() { return Boolean(this.thanks) || this.rated(); },
    noteMeta(note) { return `${note.by} · ${RES.when(note.at)}`; },
    starLabel(value) { return `${value} 星`; },
    stars() { return [1, 2, 3, 4, 5]; },
    sendText() { return this.sending ? "正在提交…" : "提交评价"; },

    async rate() {
      if (!this.rating) { this.error = "请先点选星级。"; return; }
      if (this.sending) return;
      this.sending = true;
      this.error = "";
      try {
        const answer = await RES.call(`${this.apiPath()}/rating`, { method: "POST",
          json: { rating: this.rating, comment: this.comment.trim() || null } });
        this.thanks = answer.review_requested
          ? "感谢反馈。很抱歉没让您满意，物业经理会复核这张工单并联系处理。"
          : "感谢您的评价！";
        await this.load();
      } catch (error) {
        this.error = error.message;
      } finally {
        this.sending = false;
      }
    },
  }));
});
