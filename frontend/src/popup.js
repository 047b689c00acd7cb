// Popup contents, built as DOM nodes. Every value from the server goes in
// as text (dom.el never parses HTML), and only http(s) URLs become links,
// so a title like "<img src=x onerror=...>" is shown as typed.

import { claimsSection } from './claims.js';
import { el } from './dom.js';
import { formatDistance, formatIncidentTime } from './format.js';
import { independentNode, sourcesContent } from './sources.js';
import { PRECISION_RADIUS_M } from './precision.js';
import { typeClass } from './taxonomy.js';


/** incidentContent is the popup body of one incident feature. */
export function incidentContent(feature) {
  const p = feature.properties || {};
  const rows = [];
  const row = (label, ...value) => rows.push(el('dt', {}, label), el('dd', {}, ...value));

  const when = formatIncidentTime(p.occurred_at, p.time_precision);
  const type = [p.event_type, p.sub_event_type].filter(Boolean).join(' — ');
  if (type) row('Type', el('span', { class: `symbol ${typeClass(p.event_type)}`, 'aria-hidden': 'true' }), type);
  const actors = [p.actor1, p.actor2].filter(Boolean).join(' vs ');
  if (actors) row('Actors', actors);
  if (Number.isFinite(p.fatalities)) row('Fatalities', String(p.fatalities));
  const place = placeLines(p);
  if (place.length) row('Place', ...place);
  const independent = independentNode(p.independent_sources);
  if (p.status) row('Status', el('span', { class: `status-badge status-${p.status}` }, p.status), independent && ' · ', independent);
  else if (independent) row('Status', independent);
  const sources = sourcesContent(p.sources);
  if (sources) row('Sources', sources);

  return el(
    'article',
    { class: 'incident', 'data-incident-id': feature.id },
    el('h2', { class: 'incident-title' }, p.title || `Incident ${feature.id}`),
    when && el('p', { class: 'incident-when' }, el('time', { datetime: p.occurred_at }, when)),
    el('dl', { class: 'props' }, rows),
    claimsSection(p),
    p.notes && el('p', { class: 'incident-notes' }, p.notes),
    el('p', { class: 'incident-ref' }, `#${feature.id}`, p.external_id ? ` · ${p.external_id}` : '', p.demo ? ' · demo data' : ''),
  );
}

/**
 * placeText: where, in words as exact as the point is, one string a line.
 * geo_precision 1 (or none) is a point: its place and its distances to the
 * nearest place and the border. 2 is "near" a place, 3 a district or
 * region: a distance measured from a point that stands for a whole area
 * would be false precision ("0 m from Jebrail"), so those say only near
 * what or in which area, how far off the point may be (the radius of the
 * circle the map draws, precision.js), and the border distance roughly.
 */
export function placeText(p) {
  const lines = [];
  const precision = Number(p.geo_precision) || 1;
  const border = Number.isFinite(p.border_distance_m) ? p.border_distance_m : null;
  if (precision === 2) {
    const name = p.location_name || p.nearest_place_name;
    const within = `within about ${PRECISION_RADIUS_M[2] / 1000} km`;
    lines.push(name ? `near ${name} (${within})` : `location known only roughly (${within})`);
    if (border !== null) lines.push(roughBorder(border, 1));
  } else if (precision >= 3) {
    // An administrative area reads "in the X area"; a place name as
    // reported may already be a description ("Villages on the Aras River"),
    // so it is shown as written.
    const admin = p.admin2 || p.admin1;
    if (admin) lines.push(`in the ${admin} area`);
    else if (p.location_name) lines.push(p.location_name);
    else if (p.nearest_place_name) lines.push(`in the ${p.nearest_place_name} area`);
    lines.push(`location known to the district (within about ${PRECISION_RADIUS_M[3] / 1000} km)`);
    if (border !== null) lines.push(roughBorder(border, 10));
  } else {
    if (p.location_name) lines.push(p.location_name);
    const distances = [];
    if (p.nearest_place_name && Number.isFinite(p.nearest_place_distance_m)) {
      distances.push(`${formatDistance(p.nearest_place_distance_m)} from ${p.nearest_place_name}`);
    }
    if (border !== null) distances.push(`${formatDistance(border)} from the border`);
    if (distances.length) lines.push(distances.join('; '));
  }
  if (p.country_code) lines.push(`Country: ${p.country_code}`);
  return lines;
}

/** roughBorder says how far the border is, to the nearest stepKm. */
function roughBorder(m, stepKm) {
  const km = Math.round(m / 1000 / stepKm) * stepKm;
  return km < stepKm ? 'close to the border' : `about ${km} km from the border`;
}

function placeLines(p) {
  return placeText(p).map((text) => el('span', { class: 'line' }, text));
}

const MAX_PROPERTIES = 40;

/** propertiesContent lists a layer feature's properties as text. */
export function propertiesContent(title, feature) {
  const entries = Object.entries(feature.properties || {});
  const rows = entries
    .slice(0, MAX_PROPERTIES)
    .flatMap(([key, value]) => [el('dt', {}, key), el('dd', {}, valueText(value))]);
  return el(
    'article',
    { class: 'feature' },
    el('h2', { class: 'incident-title' }, title),
    rows.length ? el('dl', { class: 'props' }, rows) : el('p', {}, 'No properties.'),
    entries.length > MAX_PROPERTIES && el('p', {}, `… and ${entries.length - MAX_PROPERTIES} more`),
  );
}

function valueText(v) {
  if (v === null || v === undefined || v === '') return '—';
  if (typeof v === 'object') return JSON.stringify(v);
  return String(v);
}
