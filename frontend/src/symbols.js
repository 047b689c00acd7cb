// Incident symbols drawn on a canvas, for the vector tile layer (tiles.js):
// the same shapes and colours as the DOM markers of incidents.js, and
// clusters like markercluster's. The shapes and colours are read from
// style.css itself (the --fill, --shape and --inset custom properties of
// `.incident-marker.type-…`), so the two renderings cannot drift apart.
// Only numbers and colours are drawn here: a canvas holds no markup, and
// counts are written with fillText.

import { typeClass } from './taxonomy.js';

/** Marker size in CSS pixels (incidents.js gives divIcons 18 × 18). */
export const SYMBOL_SIZE = 18;
/** An approximate point's marker size (incidents.js: 14 × 14, .is-approx). */
const APPROX_SIZE = 14;
const APPROX_INSIDE = '#ffffff'; // .incident-marker.is-approx::after

const OUTLINE = '#1a1a1a'; // .incident-marker::before
const DEFAULT_FILL = '#7f7f7f';
// .status-disputed::after: white stripes 2 px wide every 4 px, at 45°.
const HATCH = 'rgba(255, 255, 255, 0.8)';
const RETRACTED_ALPHA = 0.45; // .status-retracted
const AREA_FILL_ALPHA = 0.14; // path.precision-area fill-opacity
const AREA_EDGE_ALPHA = 0.7; // path.precision-area stroke-opacity

/**
 * clusterStyle: diameter, fill and font size of a cluster of n, as
 * .incident-cluster.cluster-{small,medium,large,huge} in style.css.
 */
export function clusterStyle(n) {
  if (n < 10) return { diameter: 30, fill: '#3d7ab8', font: 13 };
  if (n < 100) return { diameter: 36, fill: '#1f5482', font: 13 };
  if (n < 1000) return { diameter: 42, fill: '#143a5c', font: 14 };
  return { diameter: 48, fill: '#0b2239', font: 14 };
}

/** clusterLabel: 7, 1234, 56k, 1.2M (as incidents.js labels clusters, with millions). */
export function clusterLabel(n) {
  if (n < 10000) return String(n);
  if (n < 999500) return `${Math.round(n / 1000)}k`;
  return `${(n / 1e6).toFixed(1).replace(/\.0$/, '')}M`;
}

/** The halo around a cluster (its box-shadow), beyond its radius. */
export const CLUSTER_HALO = 4;

/**
 * createPainter returns { point(ctx, x, y, eventType, status, approx),
 * area(ctx, x, y, r, eventType) (a precision circle of radius r),
 * cluster(ctx, x, y, n, eventType) } (eventType: the group's dominant type,
 * its ring's colour), drawing at CSS pixel x, y of a context whose
 * transform maps CSS pixels to the canvas (dpr is the device pixel ratio
 * the sprites are made for). host is an element of the page whose font
 * cluster counts use, and under which style probes are made.
 */
export function createPainter(host, dpr = 1) {
  const specs = new Map();
  const sprites = new Map();
  const font = getComputedStyle(host).fontFamily || 'sans-serif';

  // spec reads the marker style of an event type class from the style sheet.
  function spec(cls) {
    let s = specs.get(cls);
    if (s) return s;
    const probe = document.createElement('span');
    probe.className = `incident-marker ${cls}`;
    probe.hidden = true;
    host.append(probe);
    const cs = getComputedStyle(probe);
    s = {
      fill: cs.getPropertyValue('--fill').trim() || DEFAULT_FILL,
      shape: parseShape(cs.getPropertyValue('--shape')),
      inset: parseInset(cs.getPropertyValue('--inset')),
    };
    probe.remove();
    specs.set(cls, s);
    return s;
  }

  // sprite draws a symbol once per type, status and precision, at the
  // device's resolution. An approximate point (approx) is drawn as
  // .incident-marker.is-approx: smaller, and hollow (an edge in the type's
  // colour round white), so the eye goes to its precision circle.
  function sprite(eventType, status, approx) {
    const cls = typeClass(eventType);
    const key = `${cls} ${status}${approx ? ' approx' : ''}`;
    let c = sprites.get(key);
    if (c) return c;
    const { fill, shape, inset } = spec(cls);
    const size = approx ? APPROX_SIZE : SYMBOL_SIZE;
    const pad = 1;
    const box = size + 2 * pad;
    c = document.createElement('canvas');
    c.width = c.height = Math.ceil(box * dpr);
    const ctx = c.getContext('2d');
    ctx.scale(dpr, dpr);
    if (status === 'retracted') ctx.globalAlpha = RETRACTED_ALPHA;
    tracePath(ctx, shape, pad, pad, size, size);
    ctx.fillStyle = approx ? fill : OUTLINE;
    ctx.fill();
    const [top, right, bottom, left] = inset;
    const w = size - left - right;
    const h = size - top - bottom;
    tracePath(ctx, shape, pad + left, pad + top, w, h);
    ctx.fillStyle = approx ? APPROX_INSIDE : fill;
    ctx.fill();
    if (approx) {
      // White inside: stripes or dots would not show.
    } else if (status === 'disputed') {
      ctx.save();
      ctx.clip();
      ctx.strokeStyle = HATCH;
      ctx.lineWidth = 2;
      ctx.beginPath();
      // Lines x - y = c, 4 px apart across them.
      for (let c0 = -box; c0 < box; c0 += 4 * Math.SQRT2) {
        ctx.moveTo(c0, 0);
        ctx.lineTo(c0 + box, box);
      }
      ctx.stroke();
      ctx.restore();
    }
    if (status === 'reported') {
      // Dotted, as .status-reported::after: white dots every 4 px.
      ctx.save();
      ctx.clip();
      ctx.fillStyle = HATCH;
      for (let x = 2; x < box; x += 4) {
        for (let y = 2; y < box; y += 4) ctx.fillRect(x - 0.75, y - 0.75, 1.5, 1.5);
      }
      ctx.restore();
    }
    sprites.set(key, c);
    return c;
  }

  return {
    point(ctx, x, y, eventType, status, approx = false) {
      const s = sprite(eventType, status || 'verified', approx);
      const box = (approx ? APPROX_SIZE : SYMBOL_SIZE) + 2;
      ctx.drawImage(s, x - box / 2, y - box / 2, box, box);
    },
    // area draws a precision circle of radius r as the marker view's
    // path.precision-area (style.css): the type's colour, translucent,
    // with a dashed edge.
    area(ctx, x, y, r, eventType) {
      const { fill } = spec(typeClass(eventType));
      ctx.save();
      ctx.beginPath();
      ctx.arc(x, y, r, 0, 2 * Math.PI);
      ctx.fillStyle = fill;
      ctx.strokeStyle = fill;
      ctx.globalAlpha = AREA_FILL_ALPHA;
      ctx.fill();
      ctx.globalAlpha = AREA_EDGE_ALPHA;
      ctx.lineWidth = 1;
      ctx.setLineDash([4, 3]);
      ctx.stroke();
      ctx.restore();
    },
    cluster(ctx, x, y, n, eventType = null) {
      const { diameter, fill, font: size } = clusterStyle(n);
      const r = diameter / 2;
      // The ring says which event type most of the group's incidents have
      // (the legend's colours); the count stays white on dark blue.
      ctx.beginPath();
      ctx.arc(x, y, r + CLUSTER_HALO, 0, 2 * Math.PI);
      ctx.fillStyle = eventType ? spec(typeClass(eventType)).fill : 'rgba(31, 84, 130, 0.35)';
      ctx.fill();
      ctx.beginPath();
      ctx.arc(x, y, r - 1, 0, 2 * Math.PI);
      ctx.fillStyle = fill;
      ctx.fill();
      ctx.lineWidth = 2;
      ctx.strokeStyle = '#ffffff';
      ctx.stroke();
      ctx.fillStyle = '#ffffff';
      ctx.font = `700 ${size}px ${font}`;
      ctx.textAlign = 'center';
      ctx.textBaseline = 'middle';
      ctx.fillText(clusterLabel(n), x, y);
    },
  };
}

/**
 * parseShape reads a CSS clip-path basic shape as style.css writes them:
 * polygon() of percentages, inset(p%) or circle() (anything else is drawn
 * as a circle). Returns { polygon: [[fx, fy]...] } in fractions of the
 * box, or { circle: true }.
 */
export function parseShape(text) {
  const s = (text || '').trim();
  let m = /^polygon\((.*)\)$/s.exec(s);
  if (m) {
    const points = m[1].split(',').map((pair) => pair.trim().split(/\s+/).map(fraction));
    if (points.length >= 3 && points.every((p) => p.length === 2 && p.every(Number.isFinite))) return { polygon: points };
  }
  m = /^inset\(\s*([^\s)]+)/.exec(s);
  if (m) {
    const v = fraction(m[1]);
    if (Number.isFinite(v)) return { polygon: [[v, v], [1 - v, v], [1 - v, 1 - v], [v, 1 - v]] };
  }
  return { circle: true };
}

/** parseInset reads the --inset shorthand (1 to 4 lengths in px) as [top, right, bottom, left]. */
export function parseInset(text) {
  const v = (text || '').trim().split(/\s+/).map((x) => parseFloat(x));
  if (!v.length || !v.every(Number.isFinite)) return [2, 2, 2, 2];
  const [t, r = t, b = t, l = r] = v;
  return [t, r, b, l];
}

function fraction(v) {
  return v.endsWith('%') ? parseFloat(v) / 100 : parseFloat(v) / SYMBOL_SIZE;
}

function tracePath(ctx, shape, x, y, w, h) {
  ctx.beginPath();
  if (shape.circle) {
    ctx.ellipse(x + w / 2, y + h / 2, w / 2, h / 2, 0, 0, 2 * Math.PI);
    return;
  }
  shape.polygon.forEach(([fx, fy], i) => (i ? ctx.lineTo(x + fx * w, y + fy * h) : ctx.moveTo(x + fx * w, y + fy * h)));
  ctx.closePath();
}
