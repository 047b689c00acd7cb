// Which incident properties the map asks the server for. Every name must
// be one of the API's public incident properties (geo.IncidentProperties):
// frontend/vocabulary_test.go checks it.

/**
 * MAP_PROPERTIES is what markers, their tooltips and the timeline need:
 * about a quarter of a full incident. A popup fetches the rest of its
 * incident when it opens.
 */
export const MAP_PROPERTIES = ['title', 'occurred_at', 'time_precision', 'event_type', 'status', 'contested', 'geo_precision'];

/**
 * MATCH_PROPERTIES is what asking whether one live incident passes the
 * filters needs: the features' ids only, so the smallest property.
 */
export const MATCH_PROPERTIES = ['status'];
