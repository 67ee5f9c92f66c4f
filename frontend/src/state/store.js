// The page's state in one place: the open conversation, its messages and the live answer, the
// status line and the problem shown. Views subscribe and draw from it; only the controllers write.
// Nothing here touches the DOM.

/**
 * @typedef {{key: string, id: string|null, role: "user"|"assistant", content: string,
 *   status: string, facts: object}} Message  `status` as the server says: complete, streaming,
 *   stopped, failed, interrupted, replaced; `facts` what is shown under an answer.
 * @typedef {{key: string, text: string, phase: "waiting"|"streaming"|"reconnecting",
 *   model: object|null, usage: object|null}} LiveAnswer
 * @typedef {{text: string, fieldErrors?: {field: string, message: string}[],
 *   retry?: "send"|"regenerate"|"reconnect"|"queued"|null, retryAt?: number|null, notFound?: boolean}} Problem
 *   `retry`: what the problem's button does (Retry sends again, answers again or reconnects;
 *   "queued": the message goes by itself at `retryAt`, epoch ms, and Cancel takes it back)
 * @typedef {{conversationId: string|null, title: string, messages: Message[], live: LiveAnswer|null,
 *   busy: boolean, opening: boolean, status: string, problem: Problem|null, announcement: {text: string}|null}} ChatState
 */

/** @returns {ChatState} */
export function emptyChat() {
  return {
    conversationId: null,
    title: "",
    messages: [],
    live: null,
    busy: false,
    opening: false,
    status: "",
    problem: null,
    announcement: null,
  };
}

/** A value with listeners: `update` merges a patch (or a function of the state) and tells them. */
export class Store {
  #state;
  #listeners = new Set();

  constructor(initial) {
    this.#state = initial;
  }

  get state() {
    return this.#state;
  }

  update(patch) {
    const previous = this.#state;
    const change = typeof patch === "function" ? patch(previous) : patch;
    this.#state = { ...previous, ...change };
    for (const listener of this.#listeners) listener(this.#state, previous);
  }

  /** Calls `listener(state, previous)` on every change; returns the unsubscribe function. */
  subscribe(listener) {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }
}

let keys = 0;
/** A key for a message on screen, stable while it goes from live to saved. */
export const newKey = () => `m${++keys}`;
