// The report page a QR code opens: the place, a category, a description, an optional photo
// and phone; the answer is the progress link. Alpine CSP build: no inline script, no eval.
"use strict";

const MAX_PHOTO_BYTES = 8 * 1024 * 1024;

document.addEventListener("alpine:init", () => {
  Alpine.data("residentReport", () => ({
    state: "loading", // loading | refused | form | done
    refusal: "",
    estateName: "",
    place: "",
    categories: [],
    category: "",
    description: "",
    phone: "",
    photoData: "",
    photoName: "",
    error: "",
    sending: false,
    progressUrl: "",
    joined: false,

    async init() {
      try {
        const found = await RES.call(`/api/v1/resident${this.linkPath()}`);
        this.estateName = found.estate_name;
        this.place = found.place;
        this.categories = found.categories;
        this.state = "form";
      } catch (error) {
        this.refusal = error.message;
        this.state = "refused";
      }
    },

    linkPath() {
      const [, , estate, code] = window.location.pathname.split("/");
      return `/links/${encodeURIComponent(estate || "")}/${encodeURIComponent(code || "")}`;
    },
    isState(name) { return this.state === name; },
    chipClass(value) { return this.category === value ? "chip chosen" : "chip"; },
    choose(value) { this.category = value; this.error = ""; },
    hasPhoto() { return this.photoData !== ""; },
    noPhoto() { return this.photoData === ""; },
    photoSrc() { return this.photoData; },
    sendText() { return this.sending ? "正在提交…" : "提交报修"; },
    doneText() {
      return this.joined ? "物业已经在处理这个问题，您的报告已补充到同一工单。"
        : "报修已提交，物业会按时限处理。";
    },

    pickPhoto(event) {
      const file = event.target.files && event.target.files[0];
      this.error = "";
      if (!file) { this.dropPhoto(); return; }
      if (file.size > MAX_PHOTO_BYTES) {
        this.error = "照片太大了（最大 8 MB），请换一张。";
        event.target.value = "";
        return;
      }
      const reader = new FileReader();
      reader.onload = () => { this.photoData = reader.result; this.photoName = file.name; };
      reader.readAsDataURL(file);
    },
    dropPhoto() {
      this.photoData = "";
      this.photoName = "";
      const input = document.getElementById("photo");
      if (input) input.value = "";
    },

    payload() {
      const photo = this.photoData ? this.photoData.slice(this.photoData.indexOf(",") + 1) : null;
      return { category: this.category, description: this.description.trim(),
        phone: this.phone.trim() || null, photo_base64: photo };
    },

    async submit() {
      if (!this.category) { this.error = "请先选择问题类型。"; return; }
      if (this.sending) return;
      this.sending = true;
      this.error = "";
      try {
        const accepted = await RES.call(`/api/v1/resident${this.linkPath()}/reports`,
          { method: "POST", json: this.payload() });
        this.progressUrl = accepted.progress_url;
        this.joined = accepted.joined;
        this.state = "done";
      } catch (error) {
        this.error = error.message;
      } finally {
        this.sending = false;
      }
    },
  }));
});
