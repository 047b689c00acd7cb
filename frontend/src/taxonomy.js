// The incident vocabulary the map knows: ACLED's event types (as the API's
// geo.EventTypes, in the same order) and the verification statuses. Each
// event type has a CSS class giving its marker a colour and a shape (see
// style.css), so that types can be told apart without colour vision too.

export const EVENT_TYPES = [
  { name: 'Battles', cls: 'type-battles' },
  { name: 'Explosions/Remote violence', cls: 'type-explosions' },
  { name: 'Violence against civilians', cls: 'type-civilians' },
  { name: 'Protests', cls: 'type-protests' },
  { name: 'Riots', cls: 'type-riots' },
  { name: 'Strategic developments', cls: 'type-strategic' },
];

/** The class of markers whose event type the map does not know. */
export const OTHER_TYPE_CLASS = 'type-other';

const classByName = new Map(EVENT_TYPES.map((t) => [t.name, t.cls]));

/** typeClass returns the marker class of an event type. */
export function typeClass(eventType) {
  return classByName.get(eventType) || OTHER_TYPE_CLASS;
}

/** Statuses; retracted incidents are hidden unless asked for. */
export const STATUSES = [
  { name: 'verified', label: 'Verified', defaultOn: true },
  { name: 'disputed', label: 'Disputed', defaultOn: true },
  { name: 'retracted', label: 'Retracted', defaultOn: false },
];
export const DEFAULT_STATUSES = STATUSES.filter((s) => s.defaultOn).map((s) => s.name);
