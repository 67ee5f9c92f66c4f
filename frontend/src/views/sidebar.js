// The sidebar: always there on a wide screen; on a phone a button shows it over the chat.

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
        event.preventDefault(); // it closes the list; it does not stop an answer
        this.close();
        this.toggle.focus();
      }
    });
    this.narrow.addEventListener("change", () => this.sync());
    // On a phone a tap beside the list (on the chat it covers, which is inert meanwhile) closes it;
    // a tap in a dialog opened from the list (usage, delete) does not.
    doc.addEventListener("click", (event) => {
      const beside = !this.element.contains(event.target) && !this.toggle.contains(event.target) && !event.target.closest?.("dialog");
      if (this.isOpen && this.narrow.matches && beside) this.close();
    });
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
    const covering = this.isOpen && this.narrow.matches;
    this.chat.inert = covering;
    // Covering the chat, the list is a modal dialog for assistive technology too; beside it, a
    // complementary landmark (index.html).
    this.element.setAttribute("role", covering ? "dialog" : "complementary");
    this.element.toggleAttribute("aria-modal", covering);
    if (covering) this.element.setAttribute("aria-modal", "true");
  }
}
