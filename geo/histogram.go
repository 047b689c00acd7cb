package geo

import "time"

// DayCount is how many incidents a query matches on one UTC day (the day of
// occurred_at, whatever its time_precision).
type DayCount struct {
	Day   time.Time
	Count int64
}
