// Usage in a dialog: totals for the last 30 days and a line per model. Text goes in via textContent.

const count = new Intl.NumberFormat();
const dollars = new Intl.NumberFormat("en-US", { style: "currency", currency: "USD" });
// Below a dollar, two significant digits say more than "$0.00": 0.213¢ → "$0.0021".
const smallDollars = new Intl.NumberFormat("en-US", {
  style: "currency",
  currency: "USD",
  maximumSignificantDigits: 2,
});

/** A cost in cents (with fractions) as dollars a person can read. */
export function formatCost(cents) {
  const value = Number(cents) / 100;
  if (!Number.isFinite(value) || value === 0) return "$0.00";
  return value >= 1 ? dollars.format(value) : smallDollars.format(value);
}

function plural(n, one, many) {
  return `${count.format(n)} ${n === 1 ? one : many}`;
}

function summary(totals) {
  return `${plural(totals.turns, "turn", "turns")} · ${plural(totals.tokens, "token", "tokens")} · ${formatCost(totals.costCents)}`;
}

export class UsageView {
  /** @param {Document} doc @param {{load: () => Promise<object>}} actions */
  constructor(doc, { load }) {
    this.dialog = doc.getElementById("usage-dialog");
    this.body = doc.getElementById("usage-body");
    this.load = load;
    this.opener = doc.getElementById("usage-open");
    this.opener.addEventListener("click", () => this.open());
    this.dialog.addEventListener("close", () => this.opener.focus());
  }

  async open() {
    this.dialog.showModal();
    await this.refresh();
  }

  refreshIfOpen() {
    return this.dialog.open ? this.refresh() : Promise.resolve();
  }

  async refresh() {
    this.body.setAttribute("aria-busy", "true");
    try {
      this.show(await this.load());
    } catch (error) {
      this.body.replaceChildren(note(`Could not load usage. ${error?.message || ""}`.trim()));
    } finally {
      this.body.removeAttribute("aria-busy");
    }
  }

  /** @param {{totals: object, byModel: object[]}} usage */
  show(usage) {
    const { totals } = usage;
    const list = document.createElement("dl");
    list.className = "usage__totals";
    for (const [name, value] of [["Turns", count.format(totals.turns)], ["Tokens", count.format(totals.tokens)], ["Cost", formatCost(totals.costCents)]]) {
      const group = document.createElement("div");
      const term = document.createElement("dt");
      term.textContent = name;
      const detail = document.createElement("dd");
      detail.textContent = value;
      group.append(term, detail);
      list.append(group);
    }
    const models = document.createElement("ul");
    models.className = "usage__models";
    models.setAttribute("aria-label", "By model");
    for (const row of usage.byModel) {
      const li = document.createElement("li");
      const model = document.createElement("span");
      model.className = "usage__model";
      model.textContent = row.model;
      li.append(model, ` ${summary(row)}`);
      models.append(li);
    }
    this.body.replaceChildren(list, ...(usage.byModel.length ? [models] : []), ...(totals.turns ? [] : [note("No answers in the last 30 days.")]));
  }
}

function note(text) {
  const p = document.createElement("p");
  p.className = "usage__note";
  p.textContent = text;
  return p;
}
