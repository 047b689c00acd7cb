package api

import (
	"bytes"
	"errors"
	"io/fs"
	"net/http"
	"sync"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/incidentmap/incidentmap/frontend"
)

// apiDocsCSP is the policy of /api/docs. Swagger UI runs from the page's own
// bundle (no inline script, no eval) and sets styles only through the DOM
// (which style-src does not govern), so nothing is relaxed beyond the map's
// own policy: data: images are the icons its stylesheet embeds, connect-src
// 'self' lets it fetch /api/openapi and send "Try it out" requests.
const apiDocsCSP = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; " +
	"connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'"

// apiDocsPage is the built documentation page and its validator, read once.
var apiDocsPage = sync.OnceValues(func() ([]byte, error) {
	return fs.ReadFile(frontend.Dist(), frontend.DocsFile)
})

// apiDocs is GET /api/docs: Swagger UI (npm swagger-ui-dist, bundled by the
// frontend build) rendering /api/openapi. Its scripts and styles are the
// content-hashed files under /assets/ the map's bundle is served from.
func (s *Server) apiDocs(c echo.Context) error {
	page, err := apiDocsPage()
	h := c.Response().Header()
	switch {
	case errors.Is(err, fs.ErrNotExist):
		h.Set("Retry-After", "60")
		return c.String(http.StatusServiceUnavailable, notBuiltMessage)
	case err != nil:
		return err // the embedded file system cannot fail otherwise
	}
	h.Set("Content-Security-Policy", apiDocsCSP)
	h.Set("Cache-Control", "no-cache")
	h.Set("ETag", contentETag(page))
	h.Set(echo.HeaderContentType, echo.MIMETextHTMLCharsetUTF8)
	http.ServeContent(c.Response(), c.Request(), frontend.DocsFile, time.Time{}, bytes.NewReader(page))
	return nil
}
