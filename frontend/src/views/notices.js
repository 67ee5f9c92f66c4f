// The status line, the problem (with its countdown and Retry), and the screen-reader announcer.

const seconds = (ms) => Math.max(0, Math.ceil(ms / 1000));

function waitWords(s) {
  if (s < 90) return `${s} s`;
  return `${Math.ceil(s / 60)} min`;
}

export class NoticeView {
  /**
   * @param {{status: HTMLElement, problem: HTMLElement, announcer: HTMLElement}} elements
   * @param {import("../state/store.js").Store} store
   * @param {{retry: () => void, cancel: () => void}} actions
   */
  constructor({ status, problem, announcer }, store, actions) {
    Object.assign(this, { statusEl: status, problemEl: problem, announcer, actions });
    this.timer = 0;
    store.subscribe((state, previous) => {
      if (state.status !== previous.status) this.showStatus(state.status);
      if (state.problem !== previous.problem) this.showProblem(state.problem);
      if (state.announcement !== previous.announcement && state.announcement) this.announce(state.announcement.text);
    });
  }

  showStatus(text) {
    this.statusEl.textContent = text;
  }

  showProblem(problem) {
    clearInterval(this.timer);
    this.problemEl.replaceChildren();
    this.problemEl.hidden = !problem;
    if (!problem) return;
    const sentence = document.createElement("p");
    sentence.textContent = problem.text;
    this.problemEl.append(sentence);
    // Field messages the sentence already spells out are left out rather than said twice.
    const extra = [...new Set((problem.fieldErrors || []).map((e) => e.message).filter((m) => m && !problem.text.includes(m)))];
    if (extra.length) {
      const list = document.createElement("ul");
      for (const message of extra) {
        const item = document.createElement("li");
        item.textContent = message;
        list.append(item);
      }
      this.problemEl.append(list);
    }
    const row = document.createElement("div");
    row.className = "problem__actions";
    if (problem.retryAt) {
      // Said once by the alert; the ticking number is for eyes only.
      const countdown = document.createElement("span");
      countdown.className = "problem__countdown";
      countdown.setAttribute("aria-hidden", "true");
      const tick = () => {
        const left = seconds(problem.retryAt - Date.now());
        countdown.textContent =
          problem.retry === "queued" ? `Sending in ${waitWords(left)}…` : left ? `You can send again in ${waitWords(left)}.` : "You can send again now.";
        if (!left) clearInterval(this.timer);
      };
      tick();
      this.timer = setInterval(tick, 1000);
      row.append(countdown);
    }
    if (problem.retry === "queued") row.append(this.button("Cancel", this.actions.cancel));
    else if (problem.retry) row.append(this.button(problem.retry === "reconnect" ? "Reconnect" : "Retry", this.actions.retry));
    if (row.childElementCount) this.problemEl.append(row);
  }

  button(label, onClick) {
    const button = document.createElement("button");
    button.type = "button";
    button.className = "button button--secondary";
    button.textContent = label;
    button.addEventListener("click", onClick);
    return button;
  }

  /** A screen reader hears a finished answer once, as text (markdown marks taken out). */
  announce(text) {
    const plain = text.replace(/```[\w+-]*\n?/g, "").replace(/[#*_`>|~]+/g, "").replace(/\s+/g, " ").trim();
    const short = plain.length > 800 ? `${plain.slice(0, 800)}… The whole answer is in the conversation.` : plain;
    this.announcer.textContent = "";
    // A new text node in a cleared region is announced even when it repeats the last one.
    requestAnimationFrame(() => (this.announcer.textContent = short));
  }
}

/** The empty state: a greeting and a few prompts to start from. */
export class WelcomeView {
  /** @param {HTMLElement} section @param {import("../state/store.js").Store} store @param {{choose: (text: string) => void}} actions */
  constructor(section, store, actions) {
    this.section = section;
    section.addEventListener("click", (event) => {
      const prompt = event.target.closest("button[data-prompt]");
      if (prompt) actions.choose(prompt.dataset.prompt);
    });
    const sync = (state) => {
      const hidden = Boolean(state.conversationId || state.messages.length || state.live || state.opening);
      if (section.hidden !== hidden) section.hidden = hidden;
    };
    store.subscribe(sync);
    sync(store.state);
  }
}

/** The open conversation's title and its actions (rename, delete), above the messages. */
export class TitleView {
  /**
   * @param {{title: HTMLElement, actions: HTMLElement}} elements
   * @param {import("../state/store.js").Store} store
   */
  constructor({ title, actions }, store) {
    // The store changes with every word of an answer: only what differs is written, since each write
    // costs a layout and a paint (and the tab's title a message to the browser).
    const sync = (state) => {
      const text = state.title || (state.conversationId ? "New conversation" : "");
      if (title.textContent !== text) title.textContent = text;
      const hidden = !state.conversationId || !state.messages.length;
      if (actions.hidden !== hidden) actions.hidden = hidden;
      const tab = state.title ? `${state.title} · Chimera` : "Chimera";
      if (document.title !== tab) document.title = tab;
    };
    store.subscribe(sync);
    sync(store.state);
  }
}
