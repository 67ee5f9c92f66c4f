// What both client scripts share: the smallest ChatState the stock engine accepts, and a text reader.

// Plain arrays, replaced rather than mutated, and snapshots as deep copies, as the framework
// bindings (React, Vue, Svelte) keep theirs.
export class MemoryChatState {
  status = "ready";
  error = undefined;
  messages = [];
  pushMessage = (message) => {
    this.messages = this.messages.concat(message);
  };
  popMessage = () => {
    this.messages = this.messages.slice(0, -1);
  };
  replaceMessage = (index, message) => {
    this.messages = [...this.messages.slice(0, index), this.snapshot(message), ...this.messages.slice(index + 1)];
  };
  snapshot = (thing) => structuredClone(thing);
}

/** A chat engine class of the given `ai` version's AbstractChat, holding its state in memory. */
export function memoryChat(AbstractChat) {
  return class Chat extends AbstractChat {
    constructor(init) {
      super({ ...init, state: new MemoryChatState() });
    }
  };
}

/** The text parts of a UI message, joined. */
export function textOf(message) {
  return (message?.parts ?? [])
    .filter((part) => part.type === "text")
    .map((part) => part.text)
    .join("");
}
