// Two small pieces of chrome: the sidebar that a phone shows and hides, and the sign-in notice.

import { storeToken } from "./api.js";

/** On wide screens the sidebar is always there; on phones a button shows it over the chat. */
export class Sidebar {
  constructor(doc = document) {
    this.element = doc.getElementById("sidebar");
    this.toggle = doc.getElementById("sidebar-toggle");
    this.chat = doc.getElementById("chat");
    this.narrow = window.matchMedia("(max-width: 49.99rem)");

    this.toggle.addEventListener("click", () => (this.isOpen ? this.close() : this.open()));
    this.element.addEventListener("keydown", (event) => {
      if (event.key === "Escape" && this.isOpen && this.narrow.matches) {
        this.close();
        this.toggle.focus();
      }
    });
    this.narrow.addEventListener("change", () => this.sync());
  }

  get isOpen() {
    return this.element.hasAttribute("data-open");
  }

  open() {
    this.setOpen(true);
    const first = ["[aria-current='page']", ".history__open", "button, summary"]
      .map((selector) => this.element.querySelector(selector))
      .find(Boolean);
    first?.focus();
  }

  /** Hide it where it covers the chat; returns true when that changed what is on screen. */
  close() {
    const covered = this.isOpen && this.narrow.matches;
    this.setOpen(false);
    return covered;
  }

  setOpen(open) {
    this.element.toggleAttribute("data-open", open);
    this.toggle.setAttribute("aria-expanded", String(open));
    this.sync();
  }

  /** While the list covers the chat on a phone, the chat behind it takes no focus. */
  sync() {
    this.chat.inert = this.isOpen && this.narrow.matches;
  }
}

const NO_DEV_TOKEN = "This server does not hand out development tokens. Paste an access token to continue.";
const REJECTED = "The saved access token was not accepted. Paste a new one to continue.";

/** Asks for an access token when there is none; a pasted one is kept in localStorage. */
export class SignInNotice {
  /** @param {{saved: () => void}} callbacks */
  constructor(doc, { saved }) {
    this.section = doc.getElementById("sign-in");
    this.text = doc.getElementById("sign-in-text");
    this.form = doc.getElementById("sign-in-form");
    this.input = doc.getElementById("access-token");
    this.form.addEventListener("submit", (event) => {
      event.preventDefault();
      const token = this.input.value.trim();
      if (!token) return this.invalid("Paste the access token first.");
      try {
        storeToken(token);
      } catch {
        return this.invalid("This browser does not allow saving the token here.");
      }
      this.input.value = "";
      this.input.removeAttribute("aria-invalid");
      this.section.hidden = true;
      doc.getElementById("prompt").focus();
      saved();
    });
  }

  /** @param {{rejected: boolean}} reason */
  show({ rejected }) {
    const wasHidden = this.section.hidden;
    this.text.textContent = rejected ? REJECTED : NO_DEV_TOKEN;
    this.section.hidden = false;
    if (wasHidden) this.input.focus();
  }

  invalid(message) {
    this.text.textContent = message;
    this.input.setAttribute("aria-invalid", "true");
    this.input.focus();
  }
}
