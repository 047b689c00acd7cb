// The timeline's date axis: where to put ticks and what to write under
// them, for a span of days drawn across a width in pixels. Pure: no DOM.

const DAY_MS = 86400000;
const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];

/** Steps tried, finest first: days, then months, then years. */
const STEPS = [
  { days: 1 },
  { days: 2 },
  { days: 7 },
  { days: 14 },
  { months: 1 },
  { months: 3 },
  { months: 6 },
  { years: 1 },
  { years: 2 },
  { years: 5 },
  { years: 10 },
];

/**
 * dateTicks gives the ticks of days start..end (day numbers, inclusive)
 * drawn over width pixels, at least minGap pixels apart: [{ day, x,
 * label }], x being the left edge of the tick's day. Days are UTC, as the
 * timeline's are.
 */
export function dateTicks(start, end, width, minGap = 64) {
  const n = end - start + 1;
  if (!(n > 0) || !(width > 0)) return [];
  const px = width / n; // pixels a day
  for (const step of STEPS) {
    const approxDays = step.days || (step.months || 0) * 30.4 || (step.years || 0) * 365.25;
    if (approxDays * px < minGap) continue;
    const days = tickDays(start, end, step);
    return days.map((day) => ({ day, x: (day - start) * px, label: tickLabel(day, step) }));
  }
  return [];
}

function tickDays(start, end, step) {
  const out = [];
  if (step.days) {
    // Whole weeks start on Mondays (day 4 of the epoch was a Monday).
    const first = step.days >= 7 ? start + ((((4 - start) % 7) + 7) % 7) : start;
    for (let d = first; d <= end; d += step.days) out.push(d);
    return out;
  }
  const s = new Date(start * DAY_MS);
  const months = step.months || step.years * 12;
  let y = s.getUTCFullYear();
  let m = s.getUTCMonth();
  if (step.years) {
    y = Math.ceil((y + (m > 0 || s.getUTCDate() > 1 ? 1 : 0)) / step.years) * step.years;
    m = 0;
  } else {
    if (s.getUTCDate() > 1) m++;
    m = Math.ceil(m / months) * months;
  }
  for (;;) {
    const day = Math.floor(Date.UTC(y, m, 1) / DAY_MS);
    if (day > end) break;
    if (day >= start) out.push(day);
    m += months;
  }
  return out;
}

function tickLabel(day, step) {
  const d = new Date(day * DAY_MS);
  if (step.years) return String(d.getUTCFullYear());
  if (step.months) return d.getUTCMonth() === 0 ? String(d.getUTCFullYear()) : MONTHS[d.getUTCMonth()];
  return `${d.getUTCDate()} ${MONTHS[d.getUTCMonth()]}`;
}
