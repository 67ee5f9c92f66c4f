// The model picker: the <select> filled from GET /api/models, in the server's order; the person's
// choice is remembered. Labels go in via textContent. index.html keeps a lone "Auto" option, so
// the page works if the list never comes.

const REFRESH_INTERVAL_MS = 30_000; // refreshes (not the first load) are at most this often
const CHOICE_KEY = "chimera.model"; // the person's last choice, offered again next time

function remembered() {
  try {
    return localStorage.getItem(CHOICE_KEY);
  } catch {
    return null;
  }
}

/** For a choice that cannot answer now: the word after its label, and a sentence for its tooltip. */
const UNAVAILABLE = {
  retired: ["retired", "Its provider no longer offers it."],
  resting: ["resting", "It is resting after errors or rate limits; try again later."],
  "not-configured": ["not configured", "This server has no key for its provider."],
  unavailable: ["unavailable", "No model can answer right now."],
};

export class ModelPicker {
  /**
   * @param {HTMLSelectElement} select
   * @param {{load: () => Promise<{default?: string, models?: object[]}>, intervalMs?: number}} options
   */
  constructor(select, { load, intervalMs = REFRESH_INTERVAL_MS }) {
    this.select = select;
    this.load = load;
    this.intervalMs = intervalMs;
    /** @type {Map<string, {id: string, label: string}>} the last list shown, by id */
    this.choices = new Map();
    this.shown = false; // a list from the server has replaced the fallback option
    this.lastAttempt = -Infinity;
    /** @type {Promise<boolean>|null} */
    this.loading = null;
    this.timer = null;
    // A choice that cannot answer stays selectable only while it is the current one.
    select.addEventListener("change", () => {
      this.markDisabled();
      try {
        localStorage.setItem(CHOICE_KEY, select.value);
      } catch {
        // storage switched off: the choice lasts while the page is open
      }
    });
  }

  /** The label a person knows a model by; the id itself when the list does not name it. */
  labelFor(id) {
    return this.choices.get(id)?.label || id;
  }

  /** Fetch the list now. Resolves true when it was shown; a failure keeps what is offered. */
  refresh() {
    clearTimeout(this.timer);
    this.timer = null;
    if (!this.loading) {
      this.lastAttempt = performance.now();
      this.loading = this.fetchAndShow().finally(() => {
        this.loading = null;
      });
    }
    return this.loading;
  }

  /**
   * Fetch the list again unless it was fetched within the interval. Within it, `later` puts the
   * refresh off until the interval ends (after a fallback, so a retired model shows up); otherwise
   * the request is dropped (the page regaining focus, which happens often).
   */
  refreshIfStale({ later = false } = {}) {
    if (this.timer || this.loading) return;
    const wait = this.lastAttempt + this.intervalMs - performance.now();
    if (wait <= 0) this.refresh();
    else if (later) this.timer = setTimeout(() => this.refresh(), wait);
  }

  async fetchAndShow() {
    let list;
    try {
      list = await this.load();
    } catch {
      return false; // offline or refused: the options already there (at least Auto) still work
    }
    return this.show(list);
  }

  /** Replace the options with the server's list, keeping the person's choice where it still exists. */
  show(list) {
    const models = (Array.isArray(list?.models) ? list.models : []).filter(
      (m) => m && typeof m.id === "string" && m.id,
    );
    if (!models.length) return false;
    const ids = models.map((m) => m.id);
    const current = this.select.value;
    let chosen = ids.includes(list.default) ? list.default : ids[0];
    const usable = (id) => models.some((m) => m.id === id && m.available !== false);
    if (!this.shown && usable(remembered())) chosen = remembered();
    if (this.shown && ids.includes(current)) chosen = current;

    const existing = new Map([...this.select.options].map((option) => [option.value, option]));
    const choices = new Map();
    const options = models.map((model) => {
      const label = typeof model.label === "string" && model.label ? model.label : model.id;
      const [word, sentence] = model.available === false ? UNAVAILABLE[model.status] || UNAVAILABLE.unavailable : [];
      const option = existing.get(model.id) || document.createElement("option");
      option.value = model.id;
      option.textContent = word ? `${label} (${word})` : label;
      option.title = [model.description, sentence].filter((s) => typeof s === "string" && s).join(" ");
      option.dataset.available = String(model.available !== false);
      choices.set(model.id, { ...model, label });
      return option;
    });
    // Moving options would close a list the person has open: only do it when the ids changed.
    const sameIds = ids.length === existing.size && ids.every((id, i) => this.select.options[i]?.value === id);
    if (!sameIds) this.select.replaceChildren(...options);
    this.select.value = chosen;
    this.choices = choices;
    this.shown = true;
    this.markDisabled();
    return true;
  }

  markDisabled() {
    for (const option of this.select.options) {
      option.disabled = option.dataset.available === "false" && option.value !== this.select.value;
    }
  }
}
