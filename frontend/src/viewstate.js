// The map view's state: what main.js knows about the incidents in view,
// the open popup and the load in flight, in one object instead of loose
// module variables. Pure data (no DOM, no Leaflet), so its starting values
// can be checked in Node.

/**
 * createViewState returns the state of a map that has loaded nothing yet.
 * layers is what stands for the layer panel until the collections are
 * known ({ active(), set() }).
 */
export function createViewState(layers) {
  return {
    /** What the server sent for the view, before the timeline window. */
    loaded: { features: [], matched: 0, capped: false },
    /** Aborts the load in flight (AbortController), or null. */
    loadAbort: null,
    /** A load is in flight: live events wait for it in liveQueue. */
    loading: false,
    /** [type, feature] events received while loading. */
    liveQueue: [],
    /** Ids of incidents that arrived live since the view last loaded. */
    newInView: new Set(),
    /** Bumped when what is shown goes stale (a move, a reload). */
    generation: 0,
    /** The generation that `loaded` answers (none yet). */
    loadedFor: -1,
    /** How many times incidents have been rendered (diagnostics: map.dataset.renders). */
    renders: 0,
    /** 'features' (markers and clusters) or 'tiles': how the incidents in view are shown. */
    mode: 'features',
    /** { filters, bbox, tiles }: the view whose count chose the mode last, or null. */
    lastChoice: null,
    /** The generation whose tile errors have been reported (one message per view). */
    tileErrorShown: -1,
    /** How many tiles have been drawn (diagnostics: map.dataset.tilesDrawn). */
    tilesDrawn: 0,
    /** Id (a string) of the incident whose popup is open or opening, or null. */
    selected: null,
    /** The open incident popup (L.Popup), or null. */
    popup: null,
    /** The incident the open popup shows (as far as it has been fetched). */
    popupFeature: null,
    /** What had focus before a popup took it, to go back to when it closes. */
    returnFocus: null,
    /** Until the saved state is applied, the hash is not ours to rewrite. */
    started: false,
    /** The layer panel ({ active(), set() }). */
    layers,
  };
}
