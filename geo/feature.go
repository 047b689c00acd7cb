package geo

import "time"

// FeaturePage describes a page of features streamed from the store.
type FeaturePage struct {
	Returned int
	HasNext  bool   // a page follows the last feature
	HasPrev  bool   // a page precedes the first feature
	First    Cursor // position of the first feature (for a prev link)
	Last     Cursor // position of the last feature (for a next link)
}

// Extent is the spatial and temporal extent of a collection.
type Extent struct {
	BBox  *BBox
	Start *time.Time
	End   *time.Time
}

// Layer is a named collection of GeoJSON features of any geometry type
// (a line of contact, a ceasefire zone), served like incidents.
type Layer struct {
	ID           string
	Title        string
	Description  string
	TimeProperty string // property holding a time; "" when none
	Features     int64
	Extent       Extent
	UpdatedAt    time.Time
}
