// The timeline: a histogram of the loaded incidents per day, a window over
// it (two range inputs, or drag it on the histogram) and a play button that
// moves the window a day at a time. The window filters in the browser what
// the server sent, so moving it costs no request. When the map shows vector
// tiles (too many incidents to load), there is nothing to count per day:
// the timeline then spans the filter dates or the collection's time extent,
// draws no histogram, and its window goes to the server with the tiles.

import { byId, debounce } from './dom.js';
import { dayNumber, dayToISO, formatCount, formatDayNumber, isoToDay, plural } from './format.js';
import { timeSpan } from './precision.js';
import { dateTicks } from './timeaxis.js';

/** One play step at least this often and at most this often, whatever the speed. */
const PLAY_STEP_MS = 700;
const PLAY_MIN_STEP_MS = 150;
/** Playing the whole timeline takes about this long at speed 1 (×2 halves it). */
const PLAY_SECONDS = 20;
const PLAY_WIDTH_DAYS = 7; // window width when play starts from "all dates"
const MAX_DOMAIN_DAYS = 366 * 50;
/** The date axis takes this much of the histogram's height, and writes in this size. */
const AXIS_PX = 14;
const AXIS_FONT_PX = 10;
/** The colour of week- and month-precise incidents' spans, in and out of the window. */
const SPAN_IN = '#7fa7cc';
const SPAN_OUT = '#d5dde4';

/**
 * createTimeline wires the timeline controls in index.html.
 * onWindowChange() is called when the window moves.
 * Returns { setData(features, filters, options), window(), setWindow(w), filter(features) }
 * where a window is { from, to } ("YYYY-MM-DD", inclusive) or null for all dates.
 */
export function createTimeline(onWindowChange) {
  const canvas = byId('tl-histogram');
  const start = byId('tl-start');
  const end = byId('tl-end');
  const startOut = byId('tl-start-out');
  const endOut = byId('tl-end-out');
  const play = byId('tl-play');
  const all = byId('tl-all');
  const summary = byId('tl-summary');
  const speed = byId('tl-speed');
  const cumulative = byId('tl-cumulative');

  let domain = null; // { start, end } day numbers
  let counts = new Float64Array(0); // incidents per day of the domain
  let spread = new Float64Array(0); // the part of counts from week- or month-precise incidents
  let spans = []; // [first, last] day of each incident loaded
  let served = false; // counts came from the server's histogram (dense mode)
  let win = null; // { start, end } day numbers, or null: the whole domain
  let pendingWindow = null; // set from a link before any data arrived
  let histogram = true; // false: the map shows tiles, no incidents were loaded to count
  let timer = 0;

  const notify = debounce(onWindowChange, 120); // dragging fires many events

  /**
   * setData sets what the timeline counts. options.extent ([start, end],
   * ISO times or null) with no features: the map shows tiles, so the
   * timeline spans the filter dates, or failing them the extent, without
   * a histogram.
   */
  function setData(features, filters, { extent = null } = {}) {
    histogram = !extent;
    served = false;
    // Each incident covers the days its time stands for: a day, or the
    // week or month of a less precise one (precision.js).
    spans = [];
    for (const f of features) {
      const span = timeSpan(f.properties.occurred_at, f.properties.time_precision);
      if (span) spans.push(span);
    }
    let days = spans.flat();
    if (extent) days = [extent[0], extent[1]].filter(Boolean).map(dayNumber).filter(Number.isFinite);
    // The date filters bound the timeline; open ends follow the data.
    const [first, last] = minMax(days);
    let lo = isoToDay(filters.from) ?? (days.length ? first : null);
    let hi = isoToDay(filters.to) ?? (days.length ? Math.max(last, lo ?? last) : null);
    lo ??= hi;
    hi ??= lo;
    domain = lo === null ? null : { start: lo, end: Math.min(Math.max(hi, lo), lo + MAX_DOMAIN_DAYS) };
    if (extent) spans = [];
    countSpans();
    if (pendingWindow && domain) {
      win = pendingWindow;
      pendingWindow = null;
    }
    win = clampWindow(win);
    update();
  }

  /**
   * countSpans fills counts (incidents per day) and spread (the part of
   * them that comes from week- or month-precise incidents, each spread
   * evenly over its days) from spans.
   */
  function countSpans() {
    const n = domain ? domain.end - domain.start + 1 : 0;
    counts = new Float64Array(n);
    spread = new Float64Array(n);
    if (!domain) return;
    for (const [a, b] of spans) {
      const share = 1 / (b - a + 1);
      for (let d = Math.max(a, domain.start); d <= Math.min(b, domain.end); d++) {
        counts[d - domain.start] += share;
        if (a !== b) spread[d - domain.start] += share;
      }
    }
  }

  /** setHistogram sets per-day counts the server made (dense mode): { start, counts } with start a day number. */
  function setHistogram(h) {
    if (!domain || !h) return;
    counts = new Float64Array(domain.end - domain.start + 1);
    spread = new Float64Array(counts.length);
    h.counts.forEach((c, i) => {
      const d = h.start + i - domain.start;
      if (d >= 0 && d < counts.length) counts[d] += c;
    });
    histogram = true;
    served = true;
    update();
  }

  function clampWindow(w) {
    if (!w || !domain) return null;
    const s = Math.max(w.start, domain.start);
    const e = Math.min(w.end, domain.end);
    if (s > e || (s === domain.start && e === domain.end)) return null;
    return { start: s, end: e };
  }

  function setWindowDays(w, { fromUser = true } = {}) {
    if (w && cumulative.checked && domain) w = { start: domain.start, end: w.end };
    win = clampWindow(w);
    update();
    if (fromUser) notify();
  }

  function update() {
    const n = counts.length;
    for (const input of [start, end]) {
      input.min = '0';
      input.max = String(Math.max(n - 1, 0));
      input.disabled = !domain;
    }
    play.disabled = !domain || n < 2;
    all.disabled = !win;
    const w = win || domain;
    if (w) {
      start.value = String(w.start - domain.start);
      end.value = String(w.end - domain.start);
      startOut.textContent = formatDayNumber(w.start);
      endOut.textContent = formatDayNumber(w.end);
      start.setAttribute('aria-valuetext', formatDayNumber(w.start));
      end.setAttribute('aria-valuetext', formatDayNumber(w.end));
      let inWindow = 0;
      if (served) for (let d = w.start; d <= w.end; d++) inWindow += counts[d - domain.start];
      else for (const [a, b] of spans) if (a <= w.end && b >= w.start) inWindow++;
      summary.textContent = histogram
        ? `${win ? 'Window' : 'All dates'}: ${formatCount(inWindow)} ${plural(inWindow, 'incident', 'incidents')} ${served ? 'in view' : 'loaded'}`
        : `${win ? 'Window' : 'All dates'}: too many incidents in view to count per day; zoom in for the histogram`;
    } else {
      startOut.textContent = endOut.textContent = '—';
      summary.textContent = 'No incidents loaded.';
    }
    if (!play.disabled && timer === 0) play.textContent = 'Play';
    draw();
  }

  function draw() {
    const dpr = window.devicePixelRatio || 1;
    const width = canvas.clientWidth || 300;
    const height = canvas.clientHeight || 64;
    canvas.width = Math.round(width * dpr);
    canvas.height = Math.round(height * dpr);
    const ctx = canvas.getContext('2d');
    ctx.setTransform(dpr, 0, 0, dpr, 0, 0);
    ctx.clearRect(0, 0, width, height);
    const n = counts.length;
    if (n) drawAxis(ctx, width, height);
    const plot = height - AXIS_PX; // the bars stand on the axis
    if (!n || !histogram) {
      canvas.setAttribute('aria-label', `Histogram of incidents per day: ${n ? 'too many incidents in view; zoom in' : 'no data'}`);
      if (n && win) {
        // Still show where the window lies in the domain.
        ctx.fillStyle = 'rgba(31, 84, 130, 0.12)';
        ctx.fillRect(((win.start - domain.start) / n) * width, 0, ((win.end - win.start + 1) / n) * width, plot);
      }
      return;
    }
    const perBar = Math.max(1, Math.ceil(n / width)); // days per bar when days outnumber pixels
    const bars = Math.ceil(n / perBar);
    const barWidth = width / bars;
    const sums = new Float64Array(bars);
    const spreadSums = new Float64Array(bars);
    for (let i = 0; i < n; i++) {
      sums[Math.floor(i / perBar)] += counts[i];
      spreadSums[Math.floor(i / perBar)] += spread[i];
    }
    const peak = minMax(sums)[1];
    const w = win || domain;
    if (win) {
      ctx.fillStyle = 'rgba(31, 84, 130, 0.12)';
      const x0 = ((win.start - domain.start) / perBar) * barWidth;
      const x1 = ((win.end - domain.start + 1) / perBar) * barWidth;
      ctx.fillRect(x0, 0, x1 - x0, plot);
    }
    // A week- or month-precise incident is a span: its share of each of
    // its days is drawn in a lighter colour, on top of the exact days.
    for (let b = 0; b < bars; b++) {
      if (!sums[b]) continue;
      const day = domain.start + b * perBar;
      const inside = day >= w.start && day <= w.end;
      const h = Math.max(1, (sums[b] / peak) * (plot - 4));
      const hs = spreadSums[b] ? Math.max(1, (spreadSums[b] / peak) * (plot - 4)) : 0;
      const x = b * barWidth + (barWidth > 3 ? 0.5 : 0);
      const bw = Math.max(barWidth - 1, 1);
      ctx.fillStyle = inside ? '#1f5482' : '#a9b6c2';
      if (h - hs > 0) ctx.fillRect(x, plot - h + hs, bw, h - hs);
      ctx.fillStyle = inside ? SPAN_IN : SPAN_OUT;
      if (hs) ctx.fillRect(x, plot - h, spreadSums[b] < sums[b] ? bw : barWidth, hs);
    }
    if (cumulative.checked) drawCumulative(ctx, width, plot, perBar, barWidth, sums);
    let peakDay = 0;
    for (let i = 1; i < n; i++) if (counts[i] > counts[peakDay]) peakDay = i;
    canvas.setAttribute(
      'aria-label',
      `Histogram of incidents per day, ${formatDayNumber(domain.start)} to ${formatDayNumber(domain.end)}; ` +
        `most on ${formatDayNumber(domain.start + peakDay)} (${formatCount(counts[peakDay])})` +
        (spans.some(([a, b]) => a !== b) ? '; week- and month-precise incidents are spread over their week or month' : ''),
    );
  }

  /**
   * drawCumulative draws the running total of the bars as a line, from
   * nothing on the left to all the incidents on the right.
   */
  function drawCumulative(ctx, width, plot, perBar, barWidth, sums) {
    let total = 0;
    for (const v of sums) total += v;
    if (!total) return;
    ctx.strokeStyle = '#b3261e';
    ctx.lineWidth = 1.5;
    ctx.beginPath();
    ctx.moveTo(0, plot);
    let run = 0;
    for (let b = 0; b < sums.length; b++) {
      run += sums[b];
      ctx.lineTo((b + 1) * barWidth, plot - (run / total) * (plot - 2));
    }
    ctx.stroke();
  }

  /** drawAxis writes the dates under the bars: a tick and a label at round dates. */
  function drawAxis(ctx, width, height) {
    const plot = height - AXIS_PX;
    ctx.fillStyle = '#5f6b76';
    ctx.fillRect(0, plot, width, 1);
    ctx.font = `${AXIS_FONT_PX}px ${getComputedStyle(canvas).fontFamily || 'sans-serif'}`;
    ctx.textBaseline = 'bottom';
    const ticks = dateTicks(domain.start, domain.end, width);
    canvas.dataset.ticks = ticks.map((t) => t.label).join(','); // what the axis says, for tests
    for (const t of ticks) {
      ctx.fillRect(Math.round(t.x), plot, 1, 4);
      const w = ctx.measureText(t.label).width;
      ctx.fillText(t.label, Math.min(Math.max(0, t.x - w / 2), width - w), height - 1);
    }
  }

  function onRangeInput(e) {
    if (!domain) return;
    let s = domain.start + Number(start.value);
    let t = domain.start + Number(end.value);
    if (s > t) {
      // Moving one thumb past the other pushes it along.
      if (e.target === start) t = s;
      else s = t;
    }
    setWindowDays({ start: s, end: t });
  }
  start.addEventListener('input', onRangeInput);
  end.addEventListener('input', onRangeInput);

  // Drag the window on the histogram; a press outside it centres it there.
  let drag = null;
  canvas.addEventListener('pointerdown', (e) => {
    if (!domain) return;
    const day = dayAt(e);
    const w = win || domain;
    if (day < w.start || day > w.end) {
      const half = Math.floor((w.end - w.start) / 2);
      setWindowDays(shiftInto({ start: day - half, end: day - half + (w.end - w.start) }));
    }
    drag = { x: e.clientX, window: win || domain };
    canvas.setPointerCapture(e.pointerId);
  });
  canvas.addEventListener('pointermove', (e) => {
    if (!drag) return;
    const daysPerPixel = counts.length / (canvas.clientWidth || 1);
    const delta = Math.round((e.clientX - drag.x) * daysPerPixel);
    if (delta) setWindowDays(shiftInto({ start: drag.window.start + delta, end: drag.window.end + delta }));
  });
  const endDrag = () => (drag = null);
  canvas.addEventListener('pointerup', endDrag);
  canvas.addEventListener('pointercancel', endDrag);

  function dayAt(e) {
    const r = canvas.getBoundingClientRect();
    const i = Math.floor(((e.clientX - r.left) / (r.width || 1)) * counts.length);
    return domain.start + Math.min(Math.max(i, 0), counts.length - 1);
  }

  // shiftInto slides a window back inside the domain, keeping its width.
  function shiftInto(w) {
    const width = w.end - w.start;
    const s = Math.min(Math.max(w.start, domain.start), domain.end - width);
    return { start: s, end: s + width };
  }

  function stop() {
    clearInterval(timer);
    timer = 0;
    play.textContent = 'Play';
    play.setAttribute('aria-pressed', 'false');
  }

  play.addEventListener('click', () => {
    if (timer) return stop();
    if (!domain) return;
    const n = counts.length;
    let w = win;
    if (cumulative.checked) {
      // Cumulative: everything from the first day, up to a day that advances.
      if (!w || w.end >= domain.end) w = { start: domain.start, end: domain.start };
      setWindowDays(w);
    } else if (!w || w.end >= domain.end) {
      const width = Math.min(PLAY_WIDTH_DAYS, n - 1);
      w = { start: domain.start, end: domain.start + (win ? win.end - win.start : width - 1) };
      setWindowDays(w);
    }
    play.textContent = 'Pause';
    play.setAttribute('aria-pressed', 'true');
    const { every, days } = playStep(n, Number(speed.value) || 1);
    timer = setInterval(() => {
      const current = win;
      if (!current || current.end >= domain.end) return stop();
      const step = Math.min(days, domain.end - current.end);
      setWindowDays({ start: cumulative.checked ? domain.start : current.start + step, end: current.end + step });
    }, every);
  });

  // Cumulative mode pins the window's start to the first day.
  cumulative.addEventListener('change', () => {
    if (!domain) return;
    if (cumulative.checked) setWindowDays({ start: domain.start, end: (win || domain).end });
    else draw();
  });
  speed.addEventListener('change', () => {
    // A new speed applies at once: play again from where it is.
    if (!timer) return;
    stop();
    play.click();
  });

  all.addEventListener('click', () => {
    stop();
    setWindowDays(null);
  });

  new ResizeObserver(() => draw()).observe(canvas);

  return {
    setData,
    setHistogram,
    window: () => (win ? { from: dayToISO(win.start), to: dayToISO(win.end) } : null),
    setWindow(w) {
      const days = w && { start: isoToDay(w.from), end: isoToDay(w.to) };
      if (domain) setWindowDays(days, { fromUser: false });
      else pendingWindow = days;
    },
    filter(features) {
      if (!win) return features;
      const s = win.start;
      const e = win.end;
      // An incident known to the week or month is in the window when its span meets it.
      return features.filter((f) => {
        const span = timeSpan(f.properties.occurred_at, f.properties.time_precision);
        return span && span[0] <= e && span[1] >= s;
      });
    },
  };
}

/**
 * playStep is how play moves over a timeline of n days at a speed
 * (1 normal, 2 twice as fast...): { every (ms between steps), days (per
 * step) }. A run across the timeline takes about PLAY_SECONDS / speed, so
 * a short range moves a day at a time and a long one in bigger steps; never
 * slower than a day per PLAY_STEP_MS × 2 / speed, never more often than
 * PLAY_MIN_STEP_MS.
 */
export function playStep(n, speed) {
  const total = (PLAY_SECONDS * 1000) / speed;
  const every = Math.round(Math.min((PLAY_STEP_MS * 2) / speed, Math.max(PLAY_MIN_STEP_MS, total / Math.max(n, 1))));
  const days = Math.max(1, Math.round((n * every) / total));
  return { every, days };
}

// minMax avoids Math.min(...hugeArray), which overflows the stack.
function minMax(values) {
  let lo = Infinity;
  let hi = -Infinity;
  for (const v of values) {
    if (v < lo) lo = v;
    if (v > hi) hi = v;
  }
  return [lo, hi];
}
