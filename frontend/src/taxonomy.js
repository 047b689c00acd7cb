// The incident vocabulary the map knows: ACLED's event types (as the API's
// geo.EventTypes, in the same order) and the verification statuses. Each
// event type has a CSS class giving its marker a colour and a shape (see
// style.css), so that types can be told apart without colour vision too.
// frontend/vocabulary_test.go checks these lists against geo's.

export const EVENT_TYPES = [
  { name: 'Battles', cls: 'type-battles' },
  { name: 'Explosions/Remote violence', cls: 'type-explosions' },
  { name: 'Violence against civilians', cls: 'type-civilians' },
  { name: 'Protests', cls: 'type-protests' },
  { name: 'Riots', cls: 'type-riots' },
  { name: 'Strategic developments', cls: 'type-strategic' },
];

/**
 * Sub-event types per event type (geo.EventTaxonomy, in ACLED's order): the
 * report and moderation forms offer those of the chosen event type.
 */
export const SUB_EVENT_TYPES = {
  Battles: ['Armed clash', 'Government regains territory', 'Non-state actor overtakes territory'],
  'Explosions/Remote violence': [
    'Chemical weapon',
    'Air/drone strike',
    'Suicide bomb',
    'Shelling/artillery/missile attack',
    'Remote explosive/landmine/IED',
    'Grenade',
  ],
  'Violence against civilians': ['Sexual violence', 'Attack', 'Abduction/forced disappearance'],
  Protests: ['Peaceful protest', 'Protest with intervention', 'Excessive force against protesters'],
  Riots: ['Violent demonstration', 'Mob violence'],
  'Strategic developments': [
    'Agreement',
    'Arrests',
    'Change to group/activity',
    'Disrupted weapons use',
    'Headquarters or base established',
    'Looting/property destruction',
    'Non-violent transfer of territory',
    'Other',
  ],
};

/** How exactly a point is known (geo_precision). */
export const GEO_PRECISIONS = [
  { value: 1, label: 'Exact: at this spot' },
  { value: 2, label: 'Near: within a few km' },
  { value: 3, label: 'Only the region is known' },
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
  { name: 'reported', label: 'Reported (unverified)', defaultOn: true },
  { name: 'retracted', label: 'Retracted', defaultOn: false },
];
export const DEFAULT_STATUSES = STATUSES.filter((s) => s.defaultOn).map((s) => s.name);
