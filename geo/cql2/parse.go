package cql2

// Parse parses a filter in the language named by filter-lang: "cql2-text"
// (the default when lang is empty) or "cql2-json". "cql-text" is read as
// CQL2 text: GDAL 3.6 sends that name for filters within CQL2 text (see
// TestGDALFilters).
func Parse(filter, lang string) (Expr, error) {
	switch lang {
	case "", "cql2-text", "cql-text":
		return ParseText(filter)
	case "cql2-json":
		return ParseJSON([]byte(filter))
	}
	return nil, errorf("filter-lang %q is not supported; use cql2-text or cql2-json", lang)
}
