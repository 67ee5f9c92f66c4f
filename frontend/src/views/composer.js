// The message box and its Send and Stop buttons. What is typed is kept (in this tab's storage) until
// it is sent and accepted, so a reload, a refusal or a lost connection never loses it.

const DRAFT_KEY = "chimera.draft";
const MAX_ROWS_PX = 240;

export class ComposerView {
  /**
   * @param {{form: HTMLFormElement, prompt: HTMLTextAreaElement, send: HTMLButtonElement, stop: HTMLButtonElement}} elements
   * @param {import("../state/store.js").Store} store
   * @param {{send: (text: string) => Promise<boolean>, stop: () => string|null, empty: () => void}} actions
   *   `send` resolves false when the message was refused (the text comes back to the box); `stop`
   *   may hand back the text of a message that was waiting to be sent.
   */
  constructor({ form, prompt, send, stop }, store, actions) {
    Object.assign(this, { form, prompt, sendButton: send, stopButton: stop, actions });
    this.prompt.value = readDraft() || this.prompt.value;
    this.fit();

    form.addEventListener("submit", (event) => {
      event.preventDefault();
      this.submit();
    });
    prompt.addEventListener("keydown", (event) => {
      if (event.key === "Enter" && !event.shiftKey && !event.isComposing) {
        event.preventDefault();
        this.submit();
      }
    });
    prompt.addEventListener("input", () => {
      this.fit();
      writeDraft(prompt.value);
    });
    stop.addEventListener("click", () => this.stop());
    // Escape stops the answer from anywhere on the page, except where Escape means something else
    // there: a dialog closes, an input method cancels its composition, and the phone's chat list
    // and an edit (which mark the event handled) close.
    document.addEventListener("keydown", (event) => {
      if (event.key !== "Escape" || event.defaultPrevented || event.isComposing) return;
      if (event.target instanceof Element && event.target.closest("dialog, [role=dialog]")) return;
      if (store.state.busy) {
        event.preventDefault();
        this.stop();
      }
    });
    store.subscribe((state, previous) => {
      if (state.busy !== previous.busy) this.setBusy(state.busy);
    });
    this.setBusy(store.state.busy);
  }

  async submit() {
    if (this.sendButton.hidden) return; // one answer at a time
    const text = this.prompt.value;
    if (!text.trim()) {
      this.actions.empty();
      this.prompt.focus();
      return;
    }
    this.prompt.value = "";
    writeDraft(""); // sent: a reload while it is answered must not offer it again
    this.fit();
    this.prompt.focus();
    const accepted = await this.actions.send(text);
    if (!accepted) this.restore(text);
  }

  stop() {
    const text = this.actions.stop();
    if (text) this.restore(text);
    this.prompt.focus();
  }

  /** Put text back in the box, without clobbering anything typed since. */
  restore(text) {
    const current = this.prompt.value;
    this.prompt.value = current ? `${text}\n${current}` : text;
    writeDraft(this.prompt.value);
    this.fit();
    this.prompt.focus();
  }

  setBusy(busy) {
    const stopHadFocus = document.activeElement === this.stopButton;
    this.sendButton.hidden = busy;
    this.stopButton.hidden = !busy;
    if (stopHadFocus && !busy) this.prompt.focus();
  }

  /** The box grows with what is typed, up to a limit; then it scrolls. */
  fit() {
    this.prompt.style.height = "auto";
    this.prompt.style.height = `${Math.min(this.prompt.scrollHeight + 2, MAX_ROWS_PX)}px`;
  }

  focus() {
    this.prompt.focus();
  }
}

function readDraft() {
  try {
    return sessionStorage.getItem(DRAFT_KEY) || "";
  } catch {
    return "";
  }
}

function writeDraft(text) {
  try {
    if (text) sessionStorage.setItem(DRAFT_KEY, text);
    else sessionStorage.removeItem(DRAFT_KEY);
  } catch {
    // storage switched off: the draft lives only in the box
  }
}
