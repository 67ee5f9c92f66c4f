// Usage in a dialog: totals for the last 30 days, tokens and cost per day as two small bar charts
// (SVG drawn here, no library) with the same numbers in a table for screen readers, and a table per
// model. Text goes in via textContent; the charts follow the page's colours (currentColor), so dark
// mode and forced colours need nothing of their own.

const SVG = "http://www.w3.org/2000/svg";
const DAY_MS = 86_400_000;

const count = new Intl.NumberFormat();
const compact = new Intl.NumberFormat("en-US", { notation: "compact", maximumFractionDigits: 1 });
const dollars = new Intl.NumberFormat("en-US", { style: "currency", currency: "USD" });
// Below a dollar, two significant digits say more than "$0.00": 0.213¢ → "$0.0021".
const smallDollars = new Intl.NumberFormat("en-US", {
  style: "currency",
  currency: "USD",
  maximumSignificantDigits: 2,
});
// Days are UTC dates, as the server counts them.
const shortDay = new Intl.DateTimeFormat("en-US", { month: "short", day: "numeric", timeZone: "UTC" });
const longDay = new Intl.DateTimeFormat("en-US", { weekday: "short", month: "short", day: "numeric", timeZone: "UTC" });

/** A cost in cents (with fractions) as dollars a person can read. */
export function formatCost(cents) {
  const value = Number(cents) / 100;
  if (!Number.isFinite(value) || value === 0) return "$0.00";
  return value >= 1 ? dollars.format(value) : smallDollars.format(value);
}

const utcDate = (iso) => new Date(`${iso}T00:00:00Z`);
const isoDay = (date) => date.toISOString().slice(0, 10);

/** Every day from `from` to `to` (inclusive), with the server's numbers or zeros. */
export function everyDay(from, to, byDay) {
  const known = new Map(byDay.map((row) => [row.day, row]));
  const days = [];
  for (let t = utcDate(from).getTime(); t <= utcDate(to).getTime() && days.length < 400; t += DAY_MS) {
    const day = isoDay(new Date(t));
    const row = known.get(day);
    days.push({ day, tokens: row?.tokens ?? 0, costCents: row?.costCents ?? 0, turns: row?.turns ?? 0 });
  }
  return days;
}

function element(tag, className, text) {
  const node = document.createElement(tag);
  if (className) node.className = className;
  if (text !== undefined) node.textContent = text;
  return node;
}

function svg(tag, attributes = {}) {
  const node = document.createElementNS(SVG, tag);
  for (const [name, value] of Object.entries(attributes)) node.setAttribute(name, String(value));
  return node;
}

export class UsageView {
  /**
   * @param {Document} doc
   * @param {{load: () => Promise<object>, labelFor?: (id: string) => string}} actions
   *   `labelFor` names a model as the picker does (its id when not given).
   */
  constructor(doc, { load, labelFor = (id) => id }) {
    this.dialog = doc.getElementById("usage-dialog");
    this.body = doc.getElementById("usage-body");
    this.load = load;
    this.labelFor = labelFor;
    this.opener = doc.getElementById("usage-open");
    this.opener.addEventListener("click", () => this.open());
    this.dialog.addEventListener("close", () => this.opener.focus());
    // A click on the backdrop (outside the dialog's box) closes it, as Escape does.
    this.dialog.addEventListener("click", (event) => {
      if (event.target === this.dialog) {
        const box = this.dialog.getBoundingClientRect();
        const inside =
          event.clientX >= box.left && event.clientX <= box.right && event.clientY >= box.top && event.clientY <= box.bottom;
        if (!inside) this.dialog.close();
      }
    });
  }

  async open() {
    if (!this.body.childElementCount) this.body.replaceChildren(note("Loading…"));
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

  /** @param {{from: string, to: string, totals: object, byDay: object[], byModel: object[]}} usage */
  show(usage) {
    const { totals } = usage;
    const days = everyDay(usage.from, usage.to, usage.byDay || []);
    const parts = [this.totals(totals)];
    if (totals.turns) {
      parts.push(
        this.chart(days, {
          id: "usage-tokens",
          title: "Tokens per day",
          value: (d) => d.tokens,
          format: (v) => `${count.format(v)} tokens`,
          axis: (v) => compact.format(v),
        }),
        this.chart(days, {
          id: "usage-cost",
          title: "Cost per day",
          value: (d) => d.costCents,
          format: (v) => formatCost(v),
          axis: (v) => formatCost(v),
        }),
        this.dayTable(days),
        this.modelTable(usage.byModel || []),
      );
    } else {
      parts.push(note("No answers in the last 30 days."));
    }
    this.body.replaceChildren(...parts);
  }

  totals(totals) {
    const list = element("dl", "usage__totals");
    for (const [name, value] of [
      ["Answers", count.format(totals.turns)],
      ["Tokens", count.format(totals.tokens)],
      ["Cost", formatCost(totals.costCents)],
    ]) {
      const group = element("div");
      group.append(element("dt", "", name), element("dd", "", value));
      list.append(group);
    }
    return list;
  }

  /**
   * A bar per day. The picture is for eyes (aria-hidden): the same numbers are in the table that
   * follows, and a hover shows each day's number.
   */
  chart(days, { id, title, value, format, axis }) {
    const figure = element("figure", "usage__chart");
    figure.setAttribute("aria-labelledby", `${id}-caption`);
    const caption = element("figcaption", "usage__chart-title", title);
    caption.id = `${id}-caption`;
    const peak = Math.max(...days.map(value));
    const top = element("span", "usage__axis usage__axis--top", axis(peak));
    top.setAttribute("aria-hidden", "true");

    const width = 300;
    const height = 80;
    const gap = 2;
    const step = width / days.length;
    const picture = svg("svg", {
      viewBox: `0 0 ${width} ${height}`,
      preserveAspectRatio: "none",
      class: "usage__svg",
      "aria-hidden": "true",
      focusable: "false",
    });
    picture.append(svg("line", { x1: 0, x2: width, y1: height - 0.5, y2: height - 0.5, class: "usage__baseline" }));
    days.forEach((day, i) => {
      const v = value(day);
      // A day with any use gets at least a sliver, so it never looks like none.
      const h = v > 0 && peak > 0 ? Math.max(2, (v / peak) * (height - 2)) : 0;
      const bar = svg("rect", {
        x: i * step + gap / 2,
        y: height - h,
        width: Math.max(1, step - gap),
        height: h,
        class: "usage__bar",
      });
      const tip = svg("title");
      tip.textContent = `${longDay.format(utcDate(day.day))}: ${format(v)}`;
      bar.append(tip);
      picture.append(bar);
    });

    const range = element("div", "usage__range");
    range.setAttribute("aria-hidden", "true");
    range.append(
      element("span", "", shortDay.format(utcDate(days[0].day))),
      element("span", "", shortDay.format(utcDate(days.at(-1).day))),
    );
    // What the picture shows, in words (the numbers themselves are in the table below).
    const busiest = days.reduce((best, d) => (value(d) > value(best) ? d : best), days[0]);
    const active = days.filter((d) => value(d) > 0).length;
    const said = element(
      "p",
      "visually-hidden",
      peak > 0
        ? `${active} of ${days.length} days with use; the most, ${format(peak)}, on ${longDay.format(utcDate(busiest.day))}.`
        : `No use in these ${days.length} days.`,
    );
    figure.append(caption, said, top, picture, range);
    return figure;
  }

  /** The charts' numbers as a table: for screen readers, and for anyone who opens it. */
  dayTable(days) {
    const used = days.filter((d) => d.turns || d.tokens);
    const details = element("details", "usage__days");
    details.append(element("summary", "", "Show the numbers per day"));
    const table = element("table", "usage__table");
    table.append(element("caption", "", "Tokens and cost per day (days with no answers left out)"));
    table.append(head(["Day", "Answers", "Tokens", "Cost"]));
    const body = element("tbody");
    for (const d of used) {
      body.append(row(longDay.format(utcDate(d.day)), [count.format(d.turns), count.format(d.tokens), formatCost(d.costCents)]));
    }
    table.append(body);
    details.append(table);
    return details;
  }

  modelTable(byModel) {
    const section = element("section", "usage__models");
    section.setAttribute("aria-labelledby", "usage-models-title");
    const title = element("h3", "usage__subtitle", "By model");
    title.id = "usage-models-title";
    const table = element("table", "usage__table");
    table.append(head(["Model", "Answers", "Tokens", "Cost"]));
    const body = element("tbody");
    for (const m of [...byModel].sort((a, b) => b.tokens - a.tokens)) {
      body.append(row(this.labelFor(m.model), [count.format(m.turns), count.format(m.tokens), formatCost(m.costCents)]));
    }
    table.append(body);
    section.append(title, table);
    return section;
  }
}

function head(names) {
  const thead = element("thead");
  const tr = element("tr");
  for (const name of names) {
    const th = element("th", "", name);
    th.scope = "col";
    tr.append(th);
  }
  thead.append(tr);
  return thead;
}

function row(name, values) {
  const tr = element("tr");
  const th = element("th", "", name);
  th.scope = "row";
  tr.append(th, ...values.map((value) => element("td", "", value)));
  return tr;
}

function note(text) {
  return element("p", "usage__note", text);
}
