// Every word the staff page shows, Chinese first, then English; t(key) picks the language.
"use strict";
window.EO = window.EO || {};

EO.WORDS = {
  title: ["物业值班台", "EstateOps staff"],
  login: ["登录", "Log in"], username: ["用户名", "Username"], password: ["密码", "Password"],
  logout: ["退出", "Log out"], admin: ["管理", "Admin"], figures: ["看板", "Figures"],
  wrongPassword: ["用户名或密码错误", "Wrong username or password"],
  loginFailed: ["登录失败", "Login failed"], unreachable: ["无法连接服务器", "Cannot reach the server"],
  expired: ["登录已过期，请重新登录。", "Your session has expired. Please log in again."],
  board: ["工单", "Work orders"], devices: ["设备", "Devices"], back: ["返回", "Back"],
  mine: ["我的", "Mine"], myTeam: ["本组", "My team"], overdueOnly: ["已超时", "Overdue"],
  allEstates: ["全部小区", "All estates"], allPriorities: ["全部优先级", "All priorities"],
  allSources: ["全部来源", "All sources"], allStates: ["全部状态", "All states"],
  noOrders: ["暂无工单", "No work orders"], loading: ["加载中…", "Loading…"],
  newOrders: ["新工单", "New work orders"], escalatedOrders: ["工单升级", "Escalated"],
  assignedToMe: ["派给你的工单", "Assigned to you"],
  show: ["查看", "Show"], live: ["实时", "Live"], offlineStream: ["实时连接中断", "Live updates paused"],
  recurred: ["复发", "recurred"], times: ["次", "×"], unassigned: ["未派单", "unassigned"],
  dueAck: ["接单", "ack"], dueResolve: ["办结", "resolve"], duePlan: ["方案", "plan"],
  left: ["剩余", "left"], overdue: ["超时", "overdue"], noDeadline: ["无期限", "no deadline"],
  timeline: ["处理记录", "Timeline"], readings: ["触发读数", "Triggering readings"],
  telemetry: ["近期数据", "Recent telemetry"], actions: ["操作", "Actions"],
  conditionActive: ["传感器仍报告故障", "The sensor still reports the fault"],
  conditionCleared: ["传感器已恢复正常", "The sensor reports normal again"],
  since: ["自", "since"], assignee: ["处理人", "Assignee"], team: ["班组", "Team"],
  keepTeam: ["不改班组", "Keep the team"], nobody: ["不指定人员", "Nobody"],
  note: ["说明", "Note"], commentText: ["备注内容", "Comment"],
  addPhoto: ["上传照片", "Add a photo"], description: ["描述", "Description"], e413: ["照片太大", "Photo too large"],
  e415: ["只能上传照片", "Images only"],
  resolveNote: ["办结说明（做了什么）", "Resolution note (what was done)"],
  closeWarning: ["传感器仍报告故障。确定关闭？若故障仍在，下一条读数会新开工单。请在说明中写明原因。",
                 "The sensor still reports the fault. Close anyway? If it persists, the next reading opens a new work order. Say why in the note."],
  cancelNote: ["取消原因", "Why cancel"], confirm: ["确认", "Confirm"], dismiss: ["放弃", "Cancel"],
  failed: ["操作失败", "Failed"], loadFailed: ["加载失败", "Could not load"],
  e403: ["无权执行此操作", "You may not do this"],
  e404: ["未找到：不存在，或不在你负责的小区", "Not found, or not in your estates"],
  e409: ["工单状态已变化，请看最新状态", "The work order has changed; see its latest state"],
  e422: ["填写的内容有误", "Something entered is not valid"],
  readOnly: ["你不能操作此工单（可查看）", "You can read this work order but not act on it"],
  noReadings: ["无", "none"], device: ["设备", "Device"], place: ["位置", "Place"],
  source: ["来源", "Source"], priority: ["优先级", "Priority"], ledger: ["台账", "Ledger"],
  search: ["搜索设备、位置", "Search device, place"], online: ["在线", "online"],
  offline: ["离线", "offline"], never: ["未上报", "never reported"], anomaly: ["异常", "in anomaly"],
  total: ["共", "total"], prev: ["上一页", "Previous"], next: ["下一页", "Next"],
  page: ["页", "page"], lastState: ["最近状态", "Last state"], lastSeen: ["最近上报", "Last seen"],
  workOrders: ["相关工单", "Work orders"], noData: ["该时段无数据", "No data in this period"],
  h1: ["1小时", "1 h"], h24: ["24小时", "24 h"], d7: ["7天", "7 d"], field: ["指标", "Field"],
  otherPlaces: ["其他位置", "Elsewhere"], count: ["条", "items"],
};

EO.STATUS = {
  open: ["待接单", "Open"], acknowledged: ["已接单", "Acknowledged"],
  in_progress: ["处理中", "In progress"], resolved: ["已办结", "Resolved"],
  closed: ["已关闭", "Closed"], cancelled: ["已取消", "Cancelled"],
};
EO.ACTIONS = {
  acknowledge: ["接单", "Acknowledge"], assign: ["派单", "Assign"], start: ["开始处理", "Start"],
  comment: ["备注", "Comment"], resolve: ["办结", "Resolve"], close: ["关闭", "Close"],
  reopen: ["重新打开", "Reopen"], cancel: ["取消工单", "Cancel order"],
};
EO.EVENTS = {
  raised: ["发起", "Raised"], recurred: ["复发", "Recurred"], cleared: ["传感器恢复", "Cleared by sensor"],
  acknowledged: ["接单", "Acknowledged"], assigned: ["派单", "Assigned"], started: ["开始处理", "Started"],
  comment: ["备注", "Comment"], resolved: ["办结", "Resolved"], closed: ["关闭", "Closed"],
  cancelled: ["取消", "Cancelled"], reopened: ["重新打开", "Reopened"], escalated: ["升级", "Escalated"],
  alerted: ["已通知", "Alerted"],
};
EO.TEAMS = {
  repair: ["维修组", "Repair"], safety: ["平安组", "Safety"], telecom: ["通信组", "Telecom"],
  cleaning: ["保洁组", "Cleaning"],
};
EO.SOURCES = { sensor: ["传感器", "Sensor"], resident: ["住户报修", "Resident"], staff: ["员工上报", "Staff"] };
EO.LEDGER = { green: ["绿", "green"], yellow: ["黄", "yellow"], red: ["红", "red"] };
EO.ACTORS = { sensor: ["传感器", "sensor"], system: ["系统", "system"] };
EO.ROLES = { admin: ["管理员", "admin"], dispatcher: ["调度", "dispatcher"],
             technician: ["维修员", "technician"], viewer: ["只读", "viewer"] };

// What went wrong, in the page's language, with the status code for whoever gets the call.
EO.errorText = (error, lang, fallbackKey) => {
  const key = error.status ? `e${error.status}` : "";
  const words = EO.WORDS[key] ? EO.word(EO.WORDS, key, lang) : EO.word(EO.WORDS, fallbackKey, lang);
  return error.status ? `${words} (${error.status})` : `${words}: ${error.message}`;
};

EO.word = (table, key, lang) => {
  const pair = table[key];
  if (!pair) return key == null ? "" : String(key);
  return lang === "en" ? pair[1] : pair[0];
};
