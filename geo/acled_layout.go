package geo

import (
	"slices"
	"strconv"
	"strings"
)

// acledColumns are the columns of a current ACLED export (since March
// 2023), in ACLED's order. Source: ACLED Codebook (2023), "ACLED Data
// Columns at a Glance".
var acledColumns = []string{
	"event_id_cnty", "event_date", "year", "time_precision", "disorder_type",
	"event_type", "sub_event_type", "actor1", "assoc_actor_1", "inter1",
	"actor2", "assoc_actor_2", "inter2", "interaction", "civilian_targeting",
	"iso", "region", "country", "admin1", "admin2", "admin3", "location",
	"latitude", "longitude", "geo_precision", "source", "source_scale", "notes",
	"fatalities", "tags", "timestamp",
}

// acled2019Columns are the columns of an ACLED export of 2019 to early
// 2023 (the codebook of 2019: sub-event types; no disorder_type,
// civilian_targeting or tags), in ACLED's order.
var acled2019Columns = []string{
	"data_id", "iso", "event_id_cnty", "event_id_no_cnty", "event_date", "year",
	"time_precision", "event_type", "sub_event_type", "actor1", "assoc_actor_1",
	"inter1", "actor2", "assoc_actor_2", "inter2", "interaction", "region",
	"country", "admin1", "admin2", "admin3", "location", "latitude", "longitude",
	"geo_precision", "source", "source_scale", "notes", "fatalities", "timestamp", "iso3",
}

// acledLegacyColumns are the columns of a pre-2019 ACLED export (written
// in capitals; Codebook 2017: no sub-event type, "ally" actors), in
// ACLED's order, lower-cased.
var acledLegacyColumns = []string{
	"gwno", "event_id_cnty", "event_id_no_cnty", "event_date", "year",
	"time_precision", "event_type", "actor1", "ally_actor_1", "inter1", "actor2",
	"ally_actor_2", "inter2", "interaction", "country", "admin1", "admin2",
	"admin3", "location", "latitude", "longitude", "geo_precision", "source",
	"notes", "fatalities",
}

// acledPopulationColumns are the population estimates the ACLED API adds
// on request.
var acledPopulationColumns = []string{"population_1km", "population_2km", "population_5km", "population_best"}

// incidentmapColumns are incidentmap's own columns of a CSV export. An
// export writes each only when some row carries information the ACLED
// columns do not reproduce; an import reads status, title, occurred_at,
// sources_json and demo back. report_id is local and not read back.
var incidentmapColumns = []string{"status", "title", "occurred_at", "sources_json", "demo", "report_id"}

// derivedColumns are what the store derives (WithDerived adds them to an
// export); an import of incidentmap's own export ignores them.
var derivedColumns = []string{"id", "country_code", "nearest_place_name", "nearest_place_distance_m", "border_distance_m", "geo_check", "contested", "duplicate_of"}

// acledExtraColumns are incidentmap's own and derived columns, written
// after ACLED's by the one-pass writer (NewACLEDWriter).
var acledExtraColumns = slices.Concat(incidentmapColumns, derivedColumns)

// acledRequiredColumns must be in the header of an imported ACLED file;
// every other column is optional and read when present.
var acledRequiredColumns = []string{"event_id_cnty", "event_date", "event_type", "latitude", "longitude"}

// acledExportRequiredColumns are written by every export, even when
// empty in every row: what a reader of an ACLED file expects to find.
var acledExportRequiredColumns = []string{
	"event_id_cnty", "event_date", "year", "time_precision", "event_type", "sub_event_type",
	"actor1", "actor2", "country", "location", "latitude", "longitude", "geo_precision",
	"source", "notes", "fatalities",
}

// acledColumnOrder orders the columns of an export: every ACLED column of
// every era, an index column first; unknown columns follow, sorted.
var acledColumnOrder = []string{
	"", "unnamed: 0", "data_id", "gwno", "event_id_cnty", "event_id_no_cnty", "event_date", "year",
	"time_precision", "disorder_type", "event_type", "sub_event_type", "actor1", "assoc_actor_1",
	"ally_actor_1", "inter1", "actor2", "assoc_actor_2", "ally_actor_2", "inter2", "interaction",
	"civilian_targeting", "iso", "region", "country", "admin1", "admin2", "admin3", "location",
	"latitude", "longitude", "geo_precision", "source", "source_scale", "notes", "fatalities", "tags",
	"timestamp", "population_1km", "population_2km", "population_5km", "population_best", "iso3",
}

// firstClassColumns are the columns read into Incident's own fields: a
// reader keeps their text in SourceRecord only where it differs from the
// writer's rendering of the field.
var firstClassColumns = []string{
	"event_id_cnty", "event_date", "year", "time_precision", "event_type", "sub_event_type",
	"actor1", "actor2", "iso", "country", "admin1", "admin2", "admin3", "location", "latitude",
	"longitude", "geo_precision", "source", "notes", "fatalities",
	"status", "title", "occurred_at", "sources_json", "demo",
}

// numericColumns hold numbers: written plain, never neutralised as
// formulas (unless a value is not a number).
var numericColumns = []string{
	"", "unnamed: 0", "data_id", "gwno", "event_id_no_cnty", "year", "time_precision", "inter1",
	"inter2", "interaction", "iso", "latitude", "longitude", "geo_precision", "fatalities",
	"timestamp", "population_1km", "population_2km", "population_5km", "population_best",
	"id", "nearest_place_distance_m", "border_distance_m", "report_id",
}

// normaliseColumn is how a header cell is matched: trimmed, lower-case,
// without a byte order mark.
func normaliseColumn(s string) string {
	return strings.ToLower(strings.TrimSpace(strings.TrimPrefix(s, "\uFEFF")))
}

// isNullCell reports a cell that a spreadsheet or pandas wrote for a
// missing value: "nan" or "NaN" (pandas' str of a float NaN). Only these
// exact spellings: "Nan" is a Thai province.
func isNullCell(s string) bool {
	t := strings.TrimSpace(s)
	return t == "nan" || t == "NaN"
}

// parseWholeNumber reads a whole number at least 0 as ACLED files and
// their spreadsheet re-saves write it: "31", "031", " 31 ", "31.0".
func parseWholeNumber(s string) (int, bool) {
	s = strings.TrimSpace(s)
	if i := strings.IndexByte(s, '.'); i > 0 && strings.Trim(s[i+1:], "0") == "" {
		s = s[:i]
	}
	if !isASCIIDigits(s) || len(s) > 15 {
		return 0, false
	}
	n, err := strconv.Atoi(s)
	return n, err == nil
}

// ACLEDColumns returns a copy of acledColumns (see there).
func ACLEDColumns() []string { return slices.Clone(acledColumns) }

// ACLED2019Columns returns a copy of acled2019Columns (see there).
func ACLED2019Columns() []string { return slices.Clone(acled2019Columns) }

// ACLEDLegacyColumns returns a copy of acledLegacyColumns (see there).
func ACLEDLegacyColumns() []string { return slices.Clone(acledLegacyColumns) }

// ACLEDPopulationColumns returns a copy of acledPopulationColumns (see there).
func ACLEDPopulationColumns() []string { return slices.Clone(acledPopulationColumns) }

// IncidentmapColumns returns a copy of incidentmapColumns (see there).
func IncidentmapColumns() []string { return slices.Clone(incidentmapColumns) }

// DerivedColumns returns a copy of derivedColumns (see there).
func DerivedColumns() []string { return slices.Clone(derivedColumns) }

// ACLEDExtraColumns returns a copy of acledExtraColumns (see there).
func ACLEDExtraColumns() []string { return slices.Clone(acledExtraColumns) }

// ACLEDRequiredColumns returns a copy of acledRequiredColumns (see there).
func ACLEDRequiredColumns() []string { return slices.Clone(acledRequiredColumns) }

// ACLEDExportRequiredColumns returns a copy of acledExportRequiredColumns (see there).
func ACLEDExportRequiredColumns() []string { return slices.Clone(acledExportRequiredColumns) }
