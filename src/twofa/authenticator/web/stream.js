// Server-Sent Events over fetch (EventSource cannot send the signature headers), with
// Last-Event-ID resumption, exponential backoff with jitter, and a keep-alive watchdog.

import { events } from "./api.js";

const MAX_BACKOFF_MS = 30000;
const SILENCE_LIMIT_MS = 45000; // three missed keep-alives

/** Parse an SSE byte stream, calling onMessage({id, event, data}) per dispatched event. */
export async function readEventStream(body, onMessage, onBytes = () => {}) {
  const reader = body.pipeThrough(new TextDecoderStream()).getReader();
  let buffer = "";
  let event = { id: null, event: "message", data: [] };
  const dispatch = () => {
    if (event.data.length) onMessage({ id: event.id, event: event.event, data: event.data.join("\n") });
    event = { id: null, event: "message", data: [] };
  };
  for (;;) {
    const { value, done } = await reader.read();
    if (done) return;
    onBytes();
    buffer += value;
    const lines = buffer.split(/\r\n|\r|\n/);
    buffer = lines.pop();
    for (const line of lines) {
      if (line === "") { dispatch(); continue; }
      if (line.startsWith(":")) continue;
      const colon = line.indexOf(":");
      const field = colon < 0 ? line : line.slice(0, colon);
      let text = colon < 0 ? "" : line.slice(colon + 1);
      if (text.startsWith(" ")) text = text.slice(1);
      if (field === "data") event.data.push(text);
      else if (field === "event") event.event = text;
      else if (field === "id" && !text.includes("\0")) event.id = text;
    }
  }
}

/**
 * Keep a live stream open for a device.
 * onEvent(name, payload, id);
 * onState("connecting" | "live" | "reconnecting" | "unauthorized" | "paused").
 * A stream the provider closed because the device opened too many ("closed") is not reopened
 * by itself (two tabs would take turns closing each other); reconnectNow() reopens it.
 * Returns {stop(), reconnectNow()}.
 */
export function connectEvents(device, { onEvent, onState }) {
  let lastEventId = null;
  let attempt = 0;
  let stopped = false;
  let controller = null;
  let retryTimer = null;
  let watchdog = null;
  let paused = false;

  const resetWatchdog = () => {
    clearTimeout(watchdog);
    watchdog = setTimeout(() => controller && controller.abort(), SILENCE_LIMIT_MS);
  };

  const schedule = (state) => {
    if (stopped) return;
    const base = Math.min(MAX_BACKOFF_MS, 1000 * 2 ** attempt);
    const delay = Math.round(base / 2 + Math.random() * base / 2);
    attempt += 1;
    onState(state, delay);
    clearTimeout(retryTimer);
    retryTimer = setTimeout(connect, delay);
  };

  async function connect() {
    clearTimeout(retryTimer);
    if (controller) controller.abort();
    const mine = new AbortController();
    controller = mine;
    onState("connecting");
    let state = "reconnecting";
    try {
      const response = await events(device, { lastEventId, signal: mine.signal });
      if (response.status === 401) {
        state = "unauthorized";
        attempt = Math.max(attempt, 4);
      } else if (response.ok && response.body) {
        attempt = 0;
        onState("live");
        resetWatchdog();
        await readEventStream(response.body, (message) => {
          if (message.event === "closed") paused = true;
          if (message.id) lastEventId = message.id;
          let payload = null;
          try {
            payload = JSON.parse(message.data);
          } catch {
            return;
          }
          onEvent(message.event, payload, message.id);
        }, resetWatchdog);
      }
    } catch (error) {
      if (stopped) return;
    } finally {
      clearTimeout(watchdog);
    }
    if (controller === mine && !stopped && paused) onState("paused");
    else if (controller === mine && !stopped) schedule(state);
  }

  const onOnline = () => { attempt = 0; paused = false; connect(); };
  window.addEventListener("online", onOnline);
  connect();
  return {
    stop() {
      stopped = true;
      clearTimeout(retryTimer);
      clearTimeout(watchdog);
      window.removeEventListener("online", onOnline);
      if (controller) controller.abort();
    },
    reconnectNow: onOnline,
  };
}
