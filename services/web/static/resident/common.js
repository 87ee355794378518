// Shared by the residents' pages: calls to the public residents' API and the words for
// refusals. No login, no storage: the link itself is the key.
"use strict";
window.RES = window.RES || {};

RES.STATUS = {
  open: "已受理，等待接单", acknowledged: "已接单", in_progress: "处理中",
  resolved: "已处理完成", closed: "已办结", cancelled: "已取消",
};

// What the resident reads when the API refuses without a message of its own.
RES.FALLBACK = {
  413: "照片太大了，请换一张。", 415: "只能上传照片。", 422: "填写的内容有误，请检查后再提交（电话只能填数字）。",
  429: "提交太频繁了，请稍后再试。", 404: "链接无效或已停用。",
};

RES.call = async (path, options = {}) => {
  const init = { method: options.method || "GET", headers: {} };
  if (options.json !== undefined) {
    init.headers["Content-Type"] = "application/json";
    init.body = JSON.stringify(options.json);
  }
  let response;
  try {
    response = await fetch(path, init);
  } catch (_error) {
    throw new Error("网络连接失败，请检查网络后重试。");
  }
  const body = await response.json().catch(() => ({}));
  if (!response.ok) {
    // The API says "中文 / English"; a resident reads the Chinese half.
    const said = typeof body.detail === "string" ? body.detail.split(" / ")[0] : "";
    throw new Error(said || RES.FALLBACK[response.status] || "出错了，请稍后再试。");
  }
  return body;
};

RES.when = (iso) => {
  if (!iso) return "—";
  return new Date(iso).toLocaleString("zh-CN", {
    month: "numeric", day: "numeric", hour: "2-digit", minute: "2-digit",
  });
};
