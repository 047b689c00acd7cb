package api

import (
	"context"
	"fmt"
	"io"
	"net/http"

	"github.com/labstack/echo/v4"

	"github.com/incidentmap/incidentmap/geo"
)

// mediaCSV is the media type of CSV responses.
const mediaCSV = "text/csv; charset=utf-8"

// CSVStore streams incidents as CSV: ACLED's column layout, then
// incidentmap's own columns, with formula-like text cells neutralised.
// *postgis.DB implements it.
type CSVStore interface {
	// StreamIncidentCSV writes the page of incidents q selects (filters,
	// sort, limit and cursor as StreamIncidents) to w, row by row as they
	// arrive. It writes nothing before the first row or the end, so an
	// early error leaves w untouched.
	StreamIncidentCSV(ctx context.Context, q geo.IncidentQuery, w io.Writer) (geo.FeaturePage, error)
}

// streamCSV answers an items request with f=csv: the same page the
// GeoJSON response would hold, as a CSV download. Like GeoJSON pages it is
// spooled first, so the database connection is released when the query
// ends, and an error is always a proper error response.
func (s *Server) streamCSV(ctx context.Context, c echo.Context, req itemsRequest) error {
	release, err := s.bigPages.acquire(c, req.limit)
	if err != nil {
		return err
	}
	defer release()
	var body spool
	defer body.Close()
	if _, err := req.csv(ctx, &body); err != nil {
		return err
	}
	res := c.Response()
	h := res.Header()
	h.Set(echo.HeaderContentType, mediaCSV)
	h.Set(echo.HeaderContentDisposition, `attachment; filename="`+c.Param("collectionId")+`.csv"`)
	if req.clamped {
		h.Set("Warning", fmt.Sprintf(`299 - "limit clamped to %d"`, req.limit))
	}
	res.WriteHeader(http.StatusOK)
	_, err = body.WriteTo(perWriteDeadline{res: res, rc: http.NewResponseController(res.Writer)})
	return err
}
