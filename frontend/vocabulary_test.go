package frontend_test

import (
	"bytes"
	"encoding/json"
	"os/exec"
	"path/filepath"
	"slices"
	"testing"

	"github.com/incidentmap/incidentmap/geo"
)

// jsVocabularyScript imports the map's modules in Node (the modules
// themselves, as the bundle does, not their text) and prints the lists
// that mirror geo's.
const jsVocabularyScript = `
import { pathToFileURL } from 'node:url';
const [taxonomy, properties] = await Promise.all(
  process.argv.slice(-2).map((f) => import(pathToFileURL(f).href)));
process.stdout.write(JSON.stringify({
  eventTypes: taxonomy.EVENT_TYPES.map((t) => t.name),
  subEventTypes: taxonomy.SUB_EVENT_TYPES,
  statuses: taxonomy.STATUSES.map((s) => s.name),
  defaultStatuses: taxonomy.DEFAULT_STATUSES,
  mapProperties: properties.MAP_PROPERTIES,
  matchProperties: properties.MATCH_PROPERTIES,
}));
`

// jsVocabulary is what frontend/src/taxonomy.js and properties.js export.
type jsVocabulary struct {
	EventTypes      []string            `json:"eventTypes"`
	SubEventTypes   map[string][]string `json:"subEventTypes"`
	Statuses        []string            `json:"statuses"`
	DefaultStatuses []string            `json:"defaultStatuses"`
	MapProperties   []string            `json:"mapProperties"`
	MatchProperties []string            `json:"matchProperties"`
}

// readJSVocabulary runs Node on the map's modules. Node is needed to build
// the map at all, so its absence fails the test rather than skipping it.
func readJSVocabulary(t *testing.T) jsVocabulary {
	t.Helper()
	node, err := exec.LookPath("node")
	if err != nil {
		t.Fatal("node not found: install Node.js (make deps) to build and test the map")
	}
	var stdout, stderr bytes.Buffer
	cmd := exec.Command(node, "--input-type=module", "-e", jsVocabularyScript, "--",
		filepath.Join("src", "taxonomy.js"), filepath.Join("src", "properties.js"))
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("node reading src/taxonomy.js and src/properties.js: %v\n%s", err, stderr.String())
	}
	var v jsVocabulary
	if err := json.Unmarshal(stdout.Bytes(), &v); err != nil {
		t.Fatalf("decode what node printed (%q): %v", stdout.String(), err)
	}
	return v
}

// The map's event taxonomy is geo's, in the same order: the legend, the
// filters and the forms list the types and sub-event types as the API
// accepts them.
func TestTaxonomyMatchesGo(t *testing.T) {
	js := readJSVocabulary(t)
	sameList(t, "event type", "geo.EventTypes()", geo.EventTypes(), "EVENT_TYPES in src/taxonomy.js", js.EventTypes, true)

	goTaxonomy := geo.EventTaxonomy()
	for _, typ := range geo.EventTypes() {
		if subs, ok := js.SubEventTypes[typ]; ok {
			sameList(t, "sub-event type of "+typ, "geo.EventTaxonomy()", goTaxonomy[typ],
				"SUB_EVENT_TYPES in src/taxonomy.js", subs, true)
		} else {
			t.Errorf("event type %q is in geo.EventTaxonomy() but missing from SUB_EVENT_TYPES in src/taxonomy.js", typ)
		}
	}
	for typ := range js.SubEventTypes {
		if _, ok := goTaxonomy[typ]; !ok {
			t.Errorf("event type %q is in SUB_EVENT_TYPES in src/taxonomy.js but missing from geo.EventTaxonomy()", typ)
		}
	}
}

// The map's statuses are geo's (in its own display order), and the ones it
// shows by default are geo's defaults: a permalink without statuses means
// the same on the map and in the API.
func TestStatusesMatchGo(t *testing.T) {
	js := readJSVocabulary(t)
	sameList(t, "incident status", "geo.IncidentStatuses()", geo.IncidentStatuses(), "STATUSES in src/taxonomy.js", js.Statuses, false)
	sameList(t, "default status", "geo.DefaultStatuses()", geo.DefaultStatuses(),
		"DEFAULT_STATUSES (defaultOn) in src/taxonomy.js", js.DefaultStatuses, false)
}

// Every property the map asks for is one the API offers: an unknown one
// would make every load of the map answer 400.
func TestMapPropertiesAreIncidentProperties(t *testing.T) {
	js := readJSVocabulary(t)
	offered := slices.Concat(geo.IncidentProperties(), geo.IncidentOnRequestProperties())
	for name, list := range map[string][]string{"MAP_PROPERTIES": js.MapProperties, "MATCH_PROPERTIES": js.MatchProperties} {
		if len(list) == 0 {
			t.Errorf("got no %s from src/properties.js, want some", name)
		}
		for _, p := range list {
			if !slices.Contains(offered, p) {
				t.Errorf("property %q is in %s in src/properties.js but missing from geo.IncidentProperties()", p, name)
			}
		}
	}
}

// sameList reports each value one side has and the other lacks, naming
// both sides; with ordered, the order must match too.
func sameList(t *testing.T, what, goName string, goValues []string, jsName string, jsValues []string, ordered bool) {
	t.Helper()
	if len(goValues) == 0 {
		t.Errorf("%s: got no values from %s, want some", what, goName)
	}
	missing := false
	for _, v := range goValues {
		if !slices.Contains(jsValues, v) {
			t.Errorf("%s %q is in %s but missing from %s", what, v, goName, jsName)
			missing = true
		}
	}
	for _, v := range jsValues {
		if !slices.Contains(goValues, v) {
			t.Errorf("%s %q is in %s but missing from %s", what, v, jsName, goName)
			missing = true
		}
	}
	if !missing && len(goValues) != len(jsValues) {
		t.Errorf("%s: %s lists %d, %s %d (a value twice?)", what, goName, len(goValues), jsName, len(jsValues))
	} else if !missing && ordered && !slices.Equal(goValues, jsValues) {
		t.Errorf("%s: order differs:\n%s %q\n%s %q", what, goName, goValues, jsName, jsValues)
	}
}
