// Calls to the API with the bearer token, and the live alert stream. A 401 anywhere ends the
// session through EO.onExpired (set by the page), which says so before showing the login.
"use strict";
window.EO = window.EO || {};

EO.TOKEN_KEY = "estateops.token";
EO.EXPIRES_KEY = "estateops.expires_at";

class ApiError extends Error {
  constructor(status, body) {
    super(`${status} ${body.detail_zh || body.detail || ""}`.trim());
    this.status = status;
    this.body = body;
  }
}
class Unauthorised extends Error {}
EO.ApiError = ApiError;
EO.Unauthorised = Unauthorised;

EO.token = () => sessionStorage.getItem(EO.TOKEN_KEY);

EO.api = async (path, options = {}) => {
  const headers = { Authorization: `Bearer ${EO.token()}`, ...(options.headers || {}) };
  let body = options.body;
  if (options.json !== undefined) {
    headers["Content-Type"] = "application/json";
    body = JSON.stringify(options.json);
  }
  const response = await fetch(path, { method: options.method || "GET", headers, body });
  if (response.status === 401) {
    EO.onExpired();
    throw new Unauthorised();
  }
  const parsed = await response.json().catch(() => ({}));
  if (!response.ok) throw new ApiError(response.status, parsed);
  return parsed;
};

EO.query = (params) => {
  const search = new URLSearchParams();
  for (const [key, value] of Object.entries(params)) {
    if (value !== null && value !== undefined && value !== "") search.set(key, String(value));
  }
  return search.toString();
};

// ---- Live alerts: fetch + reader, since EventSource cannot send the Authorization header.

function parseBlock(block) {
  let event = "message";
  const data = [];
  for (const line of block.split("\n")) {
    if (!line || line.startsWith(":")) continue;
    const colon = line.indexOf(":");
    const field = colon < 0 ? line : line.slice(0, colon);
    const value = colon < 0 ? "" : line.slice(colon + 1).replace(/^ /, "");
    if (field === "event") event = value;
    else if (field === "data") data.push(value);
  }
  return { event, data: data.join("\n") };
}

async function readStream(signal, onEvent) {
  const response = await fetch("/api/v1/alerts/stream", {
    headers: { Authorization: `Bearer ${EO.token()}`, Accept: "text/event-stream" }, signal });
  if (response.status === 401) throw new Unauthorised();
  if (!response.ok) throw new Error(String(response.status));
  const reader = response.body.pipeThrough(new TextDecoderStream()).getReader();
  let buffer = "";
  for (;;) {
    const { value, done } = await reader.read();
    if (done) return;
    buffer += value;
    // Hold back a trailing "\r": its "\n" may arrive in the next chunk.
    const held = buffer.endsWith("\r") ? "\r" : "";
    let text = (held ? buffer.slice(0, -1) : buffer).replace(/\r\n?/g, "\n");
    let end;
    while ((end = text.indexOf("\n\n")) >= 0) {
      onEvent(parseBlock(text.slice(0, end)));
      text = text.slice(end + 2);
    }
    buffer = text + held;
  }
}

// Follows the stream until `abort` fires, reconnecting after a drop; onState(true|false).
EO.followAlerts = async (abort, onEvent, onState) => {
  while (!abort.signal.aborted) {
    try {
      await readStream(abort.signal, onEvent);
    } catch (error) {
      if (error instanceof Unauthorised) { EO.onExpired(); return; }
    }
    if (abort.signal.aborted) return;
    onState(false);
    await new Promise((resolve) => setTimeout(resolve, 3000));
  }
};

// A short two-tone beep (WebAudio; no sound file to serve). Browsers allow it after a tap.
EO.beep = () => {
  try {
    EO.audio = EO.audio || new AudioContext();
    const context = EO.audio;
    for (const [offset, pitch] of [[0, 880], [0.18, 660]]) {
      const oscillator = context.createOscillator();
      const gain = context.createGain();
      oscillator.frequency.value = pitch;
      gain.gain.setValueAtTime(0.2, context.currentTime + offset);
      gain.gain.exponentialRampToValueAtTime(0.001, context.currentTime + offset + 0.16);
      oscillator.connect(gain).connect(context.destination);
      oscillator.start(context.currentTime + offset);
      oscillator.stop(context.currentTime + offset + 0.17);
    }
    EO.beeps = (EO.beeps || 0) + 1;
  } catch (error) {
    console.warn("no sound", error);
  }
};
