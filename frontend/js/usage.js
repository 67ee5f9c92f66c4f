// The usage panel: totals for the last 30 days and a line per model. Text goes in via textContent.

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

export class UsagePanel {
  constructor(doc = document) {
    this.totals = doc.getElementById("usage-totals");
    this.models = doc.getElementById("usage-models");
    this.note = doc.getElementById("usage-note");
  }

  /** @param {{totals: object, byModel: object[]}} usage */
  show(usage) {
    const { totals } = usage;
    const cells = { turns: count.format(totals.turns), tokens: count.format(totals.tokens), cost: formatCost(totals.costCents) };
    for (const [name, text] of Object.entries(cells)) {
      this.totals.querySelector(`[data-total="${name}"]`).textContent = text;
    }
    const lines = usage.byModel.map((row) => {
      const li = document.createElement("li");
      const model = document.createElement("span");
      model.className = "usage__model";
      model.textContent = row.model;
      li.append(model, ` ${summary(row)}`);
      return li;
    });
    this.models.replaceChildren(...lines);
    this.models.hidden = lines.length === 0;
    this.setNote(totals.turns ? "" : "No answers in the last 30 days.");
  }

  setNote(text) {
    this.note.textContent = text;
    this.note.hidden = !text;
  }
}
