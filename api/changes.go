package api

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/incidentmap/incidentmap/geo"
)

// ChangeStore reads the changes feed: the incident events mirrors follow.
type ChangeStore interface {
	// IncidentChanges returns the page after q.Since; an error matching
	// geo.ErrCursorExpired when the cursor left the retained history.
	IncidentChanges(ctx context.Context, q geo.ChangesQuery) (geo.ChangePage, error)
}

// changesPath is the changes feed of the incidents collection.
const changesPath = "/collections/incidents/changes"

// changeEvent is the foreign member "event" of each feature in the feed:
// where the change sits in the history and what a mirror does with it.
type changeEvent struct {
	ID   int64     `json:"id"`
	Type string    `json:"type"`
	At   time.Time `json:"at"`
}

// incidentChanges serves GET /api/collections/incidents/changes: a
// GeoJSON FeatureCollection of the incidents created, updated or
// retracted after the cursor since, in commit order, the current state
// of each (tombstones for retractions), with a next link carrying the
// new cursor.
func (s *Server) incidentChanges(c echo.Context) error {
	q, err := geo.ParseChangesQuery(c.QueryParams())
	if err != nil {
		return err
	}
	ctx, cancel := s.requestContext(c)
	defer cancel()
	page, err := s.deps.Events.IncidentChanges(ctx, q)
	if err != nil {
		return err
	}
	next := fmt.Sprintf("%s%s?since=%d", baseURL(c), changesPath, page.Next)
	if c.QueryParam("limit") != "" {
		next += "&limit=" + strconv.Itoa(q.Limit)
	}
	links := []link{{Href: next, Rel: "next", Type: mediaGeoJSON, Title: "changes after this page (poll it later when more is false)"}}
	head, err := json.Marshal(struct {
		Type           string `json:"type"`
		Cursor         string `json:"cursor"`
		More           bool   `json:"more"`
		NumberReturned int    `json:"numberReturned"`
		Links          []link `json:"links"`
	}{"FeatureCollection", strconv.FormatInt(page.Next, 10), page.More, len(page.Changes), links})
	if err != nil {
		return fmt.Errorf("encode changes page: %w", err)
	}
	res := c.Response()
	// The current state of the incidents changes under the same cursor.
	res.Header().Set("Cache-Control", "no-cache")
	res.Header().Set(echo.HeaderContentType, mediaGeoJSON)
	res.WriteHeader(http.StatusOK)
	if c.Request().Method == http.MethodHead {
		return nil
	}
	w := bufio.NewWriterSize(res, 64<<10)
	w.Write(head[:len(head)-1])
	w.WriteString(`,"features":[`)
	for i, ch := range page.Changes {
		if i > 0 {
			w.WriteByte(',')
		}
		if err := writeChange(w, ch); err != nil {
			return err
		}
	}
	w.WriteString("]}\n")
	return w.Flush()
}

// writeChange writes one change as a GeoJSON Feature with the foreign
// member event: the incident's public feature, or a tombstone (geometry
// null, properties status and retracted_at, and duplicate_of for a merged
// duplicate).
func writeChange(w *bufio.Writer, ch geo.Change) error {
	ev, err := json.Marshal(changeEvent{ID: ch.EventID, Type: ch.Type, At: ch.At})
	if err != nil {
		return fmt.Errorf("encode change: %w", err)
	}
	feature := []byte(ch.Feature)
	if ch.Feature == nil {
		props := map[string]any{"status": geo.StatusRetracted, "retracted_at": ch.RetractedAt}
		if ch.DuplicateOf != nil {
			props["duplicate_of"] = *ch.DuplicateOf
		}
		feature, err = json.Marshal(map[string]any{"type": "Feature", "id": ch.IncidentID, "geometry": nil, "properties": props})
		if err != nil {
			return fmt.Errorf("encode tombstone: %w", err)
		}
	}
	// The feature is a JSON object: the event joins it as its last member.
	end := len(feature) - 1
	for end > 0 && feature[end] != '}' {
		end--
	}
	w.Write(feature[:end])
	w.WriteString(`,"event":`)
	w.Write(ev)
	w.WriteByte('}')
	return nil
}

// changesPaths documents the changes feed.
func changesPaths() obj {
	errs := errorResponses("400", "503")
	errs["410"] = obj{"description": "The cursor is older than the retained history (events were pruned; see --changes-keep) " +
		"or newer than its end (another database's): download the collection again and follow changes from since=latest.",
		"content": obj{mediaJSON: obj{"schema": obj{"$ref": "#/components/schemas/Exception"}}}}
	errs["200"] = obj{"description": "A GeoJSON FeatureCollection of changes in commit order: for each incident changed in the page, " +
		"its latest event only, with its public state now (type incident.created or incident.updated: upsert it) or a tombstone " +
		"(geometry null, properties status retracted and retracted_at, and duplicate_of, the incident it was merged into, when a moderator merged it as a duplicate; type incident.retracted: delete it). Each feature carries the " +
		"foreign member event {id, type, at}; the collection carries cursor (the last event id the page covers), more (true when " +
		"more events already wait) and a next link to follow.",
		"content": obj{mediaGeoJSON: obj{"schema": obj{"type": "object", "properties": obj{
			"type":           obj{"type": "string", "enum": []string{"FeatureCollection"}},
			"cursor":         str(),
			"more":           obj{"type": "boolean"},
			"numberReturned": obj{"type": "integer"},
			"links":          obj{"type": "array", "items": obj{"type": "object"}},
			"features": obj{"type": "array", "items": obj{"type": "object", "properties": obj{
				"id":       obj{"type": "integer"},
				"geometry": obj{"type": "object", "nullable": true},
				"event": obj{"type": "object", "properties": obj{
					"id":   obj{"type": "integer"},
					"type": obj{"type": "string", "enum": []string{geo.EventCreated, geo.EventUpdated, geo.EventRetracted}},
					"at":   obj{"type": "string", "format": "date-time"},
				}},
			}}},
		}}}}}
	return obj{"/api" + changesPath: obj{"get": obj{
		"summary": "Changes of the incidents after a cursor, for mirrors (see docs/mirror.md). The cursor is the event id " +
			"the live stream (/api/events) uses; bulk imports' rows are here too, though not in the live stream.",
		"operationId": "getIncidentChanges",
		"parameters": []obj{
			obj{"name": "since", "in": "query", "required": true, "description": "Cursor: an event id from a previous page " +
				"(its cursor or next link); 0 for the whole retained history (410 once events were pruned); latest for " +
				"no changes but the current cursor (take it before a full download, then follow from it).",
				"schema": obj{"oneOf": []obj{{"type": "integer", "minimum": 0}, {"type": "string", "enum": []string{"latest"}}}}},
			param("limit", "query", "Events read per page (larger values are clamped); the page holds at most this many features.",
				obj{"type": "integer", "minimum": 1, "maximum": geo.ChangesMaxLimit, "default": geo.ChangesDefaultLimit}),
		},
		"responses": errs,
	}}}
}
