// The stream client: POST /api/chat (and GET /api/chat/{id}/stream) and read the AI SDK UI message stream (v1) as parsed events.
// Nothing here touches the DOM.

import { apiFetch } from "./client.js";

const CHAT_URL = "/api/chat";

/**
 * A random UUID (v4). crypto.randomUUID exists only in secure contexts, and `chimera dev` opened
 * from a phone on the LAN (http://192.168.…) is not one; getRandomValues works everywhere.
 */
export function newId() {
  if (typeof crypto.randomUUID === "function") return crypto.randomUUID();
  const bytes = crypto.getRandomValues(new Uint8Array(16));
  bytes[6] = (bytes[6] & 0x0f) | 0x40;
  bytes[8] = (bytes[8] & 0x3f) | 0x80;
  const hex = [...bytes].map((b) => b.toString(16).padStart(2, "0")).join("");
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}

/**
 * Ask for an answer. Resolves once the server has accepted the request and the stream has begun,
 * with an async iterator of event objects; rejects with ProblemError if it was refused
 * (SignInRequired when there is no token to send), so the caller can tell "never sent" apart from
 * "broke mid-answer".
 *
 * The body is the AI SDK's own (`{id, messages, trigger, messageId}`): `id` is the conversation,
 * chosen here for a new one so the address can name it before the answer starts; only the question
 * is sent, since the server keeps the conversation. `trigger: "regenerate-message"` answers the last
 * question again; a `messageId` naming a saved question replaces that question (an edit).
 *
 * @param {{conversationId: string, text: string, trigger?: "submit-message"|"regenerate-message",
 *   messageId?: string|null, model?: string}} request
 * @param {{signal?: AbortSignal}} [options]
 */
export async function startChat({ conversationId, text, trigger = "submit-message", messageId = null, model }, { signal } = {}) {
  const question = { id: newId(), role: "user", parts: [{ type: "text", text }] };
  const body = { id: conversationId, messages: [question], trigger, messageId };
  if (model) body.model = model;

  const response = await apiFetch(CHAT_URL, {
    method: "POST",
    headers: { "Content-Type": "application/json", Accept: "text/event-stream" },
    body: JSON.stringify(body),
    signal,
  });
  const type = response.headers.get("content-type") || "";
  if (!type.startsWith("text/event-stream") || !response.body) {
    await response.body?.cancel();
    throw new Error("The server sent something other than a chat stream. Please try again.");
  }
  return readEvents(response.body);
}

/**
 * Follow the answer being generated in a conversation (GET /api/chat/{id}/stream): its events from
 * the start, or null when nothing is being generated there (204).
 *
 * @param {string} conversationId
 * @param {{signal?: AbortSignal}} [options]
 */
export async function resumeChat(conversationId, { signal } = {}) {
  const response = await apiFetch(`${CHAT_URL}/${encodeURIComponent(conversationId)}/stream`, {
    headers: { Accept: "text/event-stream" },
    signal,
  });
  if (response.status === 204 || !response.body) return null;
  return readEvents(response.body);
}

/**
 * Parse a server-sent-events body incrementally into JSON event objects, stopping at `[DONE]`.
 * Events may be split across network chunks at any byte, including inside a UTF-8 sequence or
 * between the \r and \n of a line ending.
 *
 * @param {ReadableStream<Uint8Array>} body
 */
export async function* readEvents(body) {
  const reader = body.getReader();
  const decoder = new TextDecoder();
  let buffer = "";
  let heldCR = false;
  try {
    for (;;) {
      const { value, done } = await reader.read();
      let text = done ? decoder.decode() : decoder.decode(value, { stream: true });
      if (heldCR) text = "\r" + text;
      // A trailing \r may be half of \r\n: wait for the next chunk before deciding.
      heldCR = !done && text.endsWith("\r");
      if (heldCR) text = text.slice(0, -1);
      buffer += text.replace(/\r\n?/g, "\n");

      let boundary;
      while ((boundary = buffer.indexOf("\n\n")) !== -1) {
        const data = dataOf(buffer.slice(0, boundary));
        buffer = buffer.slice(boundary + 2);
        if (data === null) continue;
        if (data === "[DONE]") return;
        yield parseEvent(data);
      }
      // An unterminated last event means the connection was cut; like EventSource, drop it.
      if (done) return;
    }
  } finally {
    // Releases the connection when we stop early ([DONE], the caller broke out, or an error).
    reader.cancel().catch(() => {});
  }
}

/** The joined `data:` lines of one SSE block, or null when it has none (comments, keep-alives). */
function dataOf(block) {
  const lines = [];
  for (const line of block.split("\n")) {
    if (line === "data" || line.startsWith("data:")) {
      const value = line.slice(5);
      lines.push(value.startsWith(" ") ? value.slice(1) : value);
    }
  }
  return lines.length ? lines.join("\n") : null;
}

function parseEvent(data) {
  try {
    const event = JSON.parse(data);
    if (event && typeof event === "object" && typeof event.type === "string") return event;
  } catch {
    // fall through
  }
  throw new Error("The server sent a garbled part of the answer.");
}
