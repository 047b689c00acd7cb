package api

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"net/http"
	"time"

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

// streamIncidentCSV answers an incidents items request with f=csv: the
// same page of incidents the GeoJSON response would hold, as a CSV
// download, streamed. The store is Deps.Features when it implements
// CSVStore. An error before the first row gets a proper error response; a
// failure after that aborts the connection rather than sending a file
// that looks complete.
func (s *Server) streamIncidentCSV(ctx context.Context, c echo.Context, q geo.IncidentQuery) error {
	store, ok := s.deps.Features.(CSVStore)
	if !ok {
		return geo.Invalidf("f", "format csv is not supported here; use f=json")
	}
	res := c.Response()
	out := &csvResponse{res: res, rc: http.NewResponseController(res.Writer), clamped: q.LimitClamped, limit: q.Limit}
	_, err := store.StreamIncidentCSV(ctx, q, out)
	if err != nil {
		if !out.started {
			return err
		}
		s.logger.Error("csv stream failed after the response started", "err", err,
			"request_id", res.Header().Get(echo.HeaderXRequestID))
		panic(http.ErrAbortHandler)
	}
	if !out.started {
		out.start()
	}
	return out.buf.Flush()
}

// csvResponse sends the response headers with the first bytes written,
// then buffers the body, giving each write to the client its own deadline
// so a large download is bounded per write, not as a whole.
type csvResponse struct {
	res     *echo.Response
	rc      *http.ResponseController
	buf     *bufio.Writer
	started bool
	clamped bool
	limit   int
}

func (r *csvResponse) start() {
	r.started = true
	h := r.res.Header()
	h.Set(echo.HeaderContentType, mediaCSV)
	h.Set(echo.HeaderContentDisposition, `attachment; filename="incidents.csv"`)
	if r.clamped {
		h.Set("Warning", fmt.Sprintf(`299 - "limit clamped to %d"`, r.limit))
	}
	r.res.WriteHeader(http.StatusOK)
	r.buf = bufio.NewWriterSize(deadlineWriter{r}, 32<<10)
}

func (r *csvResponse) Write(p []byte) (int, error) {
	if !r.started {
		r.start()
	}
	return r.buf.Write(p)
}

// deadlineWriter writes to the response with a fresh write deadline.
type deadlineWriter struct{ r *csvResponse }

func (w deadlineWriter) Write(p []byte) (int, error) {
	_ = w.r.rc.SetWriteDeadline(time.Now().Add(30 * time.Second))
	return w.r.res.Write(p)
}
