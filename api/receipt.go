package api

import (
	"context"
	"net/http"
	"regexp"
	"strconv"

	"github.com/labstack/echo/v4"

	"github.com/incidentmap/incidentmap/geo"
)

// ReceiptStore gives a report's receipt token and, to whoever holds it,
// the report's public status (geo.Receipt*).
type ReceiptStore interface {
	ReceiptToken(ctx context.Context, reportID int64) (string, error)
	ReceiptStatus(ctx context.Context, reportID int64, token string) (string, error)
}

// receiptToken is what a receipt token looks like (32 hex digits).
var receiptToken = regexp.MustCompile(`^[0-9a-f]{32}$`)

// receiptLink is the status link a report's receipt carries.
func receiptLink(id int64, token string) string {
	return "/api/reports/" + strconv.FormatInt(id, 10) + "/status?token=" + token
}

// receiptPaths documents the status endpoint in the OpenAPI document.
func receiptPaths() obj {
	return obj{
		"/api/reports/{id}/status": obj{"get": operation(
			"The public status of a report, for its reporter: pending, published or not_published. Public, "+
				"but only with the token of the report's receipt (status_url in the submission's answer): "+
				"a wrong token is a 404 like a report that does not exist, so ids cannot be enumerated.",
			"getReportStatus",
			[]obj{
				param("id", "path", "The report's id.", obj{"type": "integer", "format": "int64", "minimum": 1}),
				param("token", "query", "The receipt's token (32 hex digits).", str()),
			},
			jsonResponse(`A JSON object: id and status (pending, published or not_published).`, mediaJSON),
			"400", "404", "503")},
	}
}

// reportStatus is GET /api/reports/{id}/status?token=...
func (s *Server) reportStatus(c echo.Context) error {
	id, err := pathID(c, "id", "report")
	if err != nil {
		return err
	}
	token := c.QueryParam("token")
	if !receiptToken.MatchString(token) {
		return geo.Invalidf("token", "the receipt's token is missing or malformed: 32 hex digits from the status link")
	}
	ctx, cancel := s.requestContext(c)
	defer cancel()
	status, err := s.deps.Reports.ReceiptStatus(ctx, id, token)
	if err != nil {
		return err
	}
	// A status changes when a moderator acts: never cached, and the link
	// (which carries a secret) is not sent on as a referrer.
	c.Response().Header().Set("Cache-Control", "no-store")
	c.Response().Header().Set("Referrer-Policy", "no-referrer")
	return c.JSON(http.StatusOK, map[string]any{"id": id, "status": status})
}
