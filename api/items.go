package api

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/incidentmap/incidentmap/geo"
)

// numberMatchedLimit caps the count behind numberMatched: beyond it
// numberMatched is left out. Counts are cached per collection version
// (countCache), so the cap only bounds the first request after a change;
// it is high enough for GDAL to learn the size of the places layer
// instead of paging through it to count.
const numberMatchedLimit = 1_000_000

func (s *Server) items(c echo.Context) error {
	ctx, cancel := s.requestContext(c)
	defer cancel()
	id := c.Param("collectionId")
	coll, err := s.findCollection(ctx, id)
	if err != nil {
		return err
	}
	req, err := coll.items(c.QueryParams())
	if err != nil {
		return err
	}
	switch {
	case req.format == "html" || c.QueryParam("f") == "" && wantsHTML(c):
		notModified, err := s.checkETag(ctx, c, id)
		if err != nil || notModified {
			return err
		}
		return s.itemsHTML(ctx, c, coll, req)
	case req.format == "csv" && req.csv != nil:
		notModified, err := s.checkETag(ctx, c, id)
		if err != nil || notModified {
			return err
		}
		return s.streamCSV(ctx, c, req)
	case req.format != "" && req.format != "geojson":
		return geo.Invalidf("f", "format %s is not supported here; use f=json", quoteForMessage(req.format))
	}
	notModified, err := s.checkETag(ctx, c, id)
	if err != nil || notModified {
		return err
	}
	return s.streamFeatureCollection(ctx, c, req)
}

// checkETag sets ETag and Cache-Control from the collection's version and
// the query, and answers 304 when the client already has this response.
// A bad query never gets here, so the ETag only names valid documents.
func (s *Server) checkETag(ctx context.Context, c echo.Context, collection string) (bool, error) {
	version, err := s.collectionVersion(ctx, collection)
	if err != nil {
		return false, err
	}
	h := sha256.New()
	// The representation is negotiated by Accept too (HTML for browsers).
	fmt.Fprintf(h, "%s\n%s\n%s\n%s\n%v", collection, version, c.Request().URL.Path, c.QueryParams().Encode(), wantsHTML(c))
	etag := `W/"` + base64.RawURLEncoding.EncodeToString(h.Sum(nil)[:18]) + `"`
	hdr := c.Response().Header()
	hdr.Set("ETag", etag)
	hdr.Set("Cache-Control", "public, max-age=5, must-revalidate")
	hdr.Add("Vary", echo.HeaderAccept)
	if etagMatches(c.Request().Header.Get("If-None-Match"), etag) {
		return true, c.NoContent(http.StatusNotModified)
	}
	return false, nil
}

// etagMatches implements If-None-Match's weak comparison.
func etagMatches(header, etag string) bool {
	strip := func(s string) string { return strings.TrimPrefix(strings.TrimSpace(s), "W/") }
	for _, candidate := range strings.Split(header, ",") {
		if c := strings.TrimSpace(candidate); c == "*" || strip(c) == strip(etag) {
			return true
		}
	}
	return false
}

// streamFeatureCollection writes the FeatureCollection the store streams.
// The features go to a spool first (memory, then an unlinked temporary
// file), so the database connection is released when the query ends, not
// when the client has read the last byte: slow or stalled clients cannot
// starve the pool. A database error is therefore always a proper error
// response, never a truncated document.
func (s *Server) streamFeatureCollection(ctx context.Context, c echo.Context, req itemsRequest) error {
	release, err := s.bigPages.acquire(c, req.limit)
	if err != nil {
		return err
	}
	defer release()
	var body spool
	defer body.Close()
	w := &body
	w.WriteString(`{"type":"FeatureCollection","features":[`)
	n := 0
	emit := func(feature []byte) error {
		if n > 0 {
			w.WriteByte(',')
		}
		n++
		_, err := w.Write(feature)
		return err
	}
	page, err := req.stream(ctx, emit)
	if err != nil {
		return err
	}
	links := pageLinks(c, page)
	self := links[0].Href
	links = append(links, link{Href: withFormat(self, "html"), Rel: "alternate", Type: mediaHTML, Title: "this page as HTML"})
	if req.csv != nil {
		links = append(links, link{Href: withFormat(self, "csv"), Rel: "alternate", Type: mediaCSV, Title: "this page as CSV"})
	}
	tail := map[string]any{
		"numberReturned": page.Returned,
		"timeStamp":      time.Now().UTC().Format(time.RFC3339),
		"links":          links,
	}
	// A first page that holds everything is its own count; otherwise count
	// (capped) after the features, since numberMatched ends the document.
	if !page.HasNext && !page.HasPrev && c.QueryParam("cursor") == "" {
		tail["numberMatched"] = page.Returned
	} else if matched, exact, err := s.countMatched(ctx, c, req); err != nil {
		s.logger.Warn("count for numberMatched", "err", err)
	} else if exact {
		tail["numberMatched"] = matched
	}
	if req.clamped {
		tail["limit"] = req.limit
	}
	tailJSON, err := json.Marshal(tail)
	if err != nil {
		return err
	}
	w.WriteString("],")
	if _, err := w.Write(tailJSON[1:]); err != nil { // the members of tail, after the features
		return err
	}
	res := c.Response()
	res.Header().Set(echo.HeaderContentType, mediaGeoJSON)
	res.Header().Set(echo.HeaderContentLength, strconv.FormatInt(body.Len(), 10))
	setContentCRS(c, req.crs)
	if req.clamped {
		res.Header().Set("Warning", fmt.Sprintf(`299 - "limit clamped to %d"`, req.limit))
	}
	res.WriteHeader(http.StatusOK)
	_, err = body.WriteTo(perWriteDeadline{res: res, rc: http.NewResponseController(res.Writer)})
	return err
}

// perWriteDeadline gives each write to the client its own deadline, so a
// large response is bounded per write, not as a whole.
type perWriteDeadline struct {
	res *echo.Response
	rc  *http.ResponseController
}

func (w perWriteDeadline) Write(p []byte) (int, error) {
	_ = w.rc.SetWriteDeadline(time.Now().Add(30 * time.Second))
	return w.res.Write(p)
}

// ReadFrom copies a spooled file to the client a MiB per deadline,
// through the response writer's own ReadFrom: sendfile, without copying
// the page through user space, when nothing (gzip) sits in between.
func (w perWriteDeadline) ReadFrom(r io.Reader) (int64, error) {
	const step = 1 << 20
	var total int64
	for {
		_ = w.rc.SetWriteDeadline(time.Now().Add(30 * time.Second))
		n, err := io.Copy(w.res.Writer, io.LimitReader(r, step))
		total += n
		w.res.Size += n // as echo's Response.Write counts
		if err != nil || n < step {
			return total, err
		}
	}
}

// countMatched is numberMatched of the request, from the cache when the
// collection has not changed since it was counted.
func (s *Server) countMatched(ctx context.Context, c echo.Context, req itemsRequest) (int64, bool, error) {
	collection := c.Param("collectionId")
	version, err := s.collectionVersion(ctx, collection)
	if err != nil {
		return 0, false, err
	}
	return s.counts.get(ctx, countKey(collection, version, c.QueryParams()), req.count)
}

// pageLinks builds self, next, prev and collection links, keeping every
// query parameter but the cursor.
func pageLinks(c echo.Context, page geo.FeaturePage) []link {
	base := baseURL(c) + "/collections/" + c.Param("collectionId")
	withCursor := func(cursor string) string {
		q := url.Values{}
		for k, v := range c.QueryParams() {
			q[k] = v
		}
		q.Del("cursor")
		if cursor != "" {
			q.Set("cursor", cursor)
		}
		if len(q) == 0 {
			return base + "/items"
		}
		return base + "/items?" + q.Encode()
	}
	links := []link{
		{Href: withCursor(c.QueryParam("cursor")), Rel: "self", Type: mediaGeoJSON, Title: "this page"},
		{Href: base, Rel: "collection", Type: mediaJSON, Title: "the collection"},
	}
	if page.HasNext && page.Returned > 0 {
		next := page.Last
		next.Back = false
		links = append(links, link{Href: withCursor(next.Encode()), Rel: "next", Type: mediaGeoJSON, Title: "next page"})
	}
	if page.HasPrev && page.Returned > 0 {
		prev := page.First
		prev.Back = true
		links = append(links, link{Href: withCursor(prev.Encode()), Rel: "prev", Type: mediaGeoJSON, Title: "previous page"})
	}
	return links
}

func (s *Server) item(c echo.Context) error {
	if err := rejectParamsHTML(c, "crs"); err != nil {
		return err
	}
	crs, err := geo.ParseCRS("crs", c.QueryParam("crs"))
	if err != nil {
		return err
	}
	ctx, cancel := s.requestContext(c)
	defer cancel()
	collection := c.Param("collectionId")
	fid, err := strconv.ParseInt(c.Param("featureId"), 10, 64)
	if err != nil || fid <= 0 {
		return &PublicError{Msg: "no feature " + quoteForMessage(c.Param("featureId")) + " in " + collection, Err: geo.ErrNotFound}
	}
	coll, err := s.findCollection(ctx, collection)
	if err != nil {
		return err
	}
	feature, err := coll.feature(ctx, fid, crs)
	if err != nil {
		if errors.Is(err, geo.ErrNotFound) {
			return &PublicError{Msg: fmt.Sprintf("no feature %d in %s", fid, collection), Err: err}
		}
		return err
	}
	setContentCRS(c, crs)
	notModified, err := s.checkETag(ctx, c, collection)
	if err != nil || notModified {
		return err
	}
	if wantsHTML(c) {
		var f map[string]any
		if err := json.Unmarshal(feature, &f); err != nil {
			return fmt.Errorf("decode feature %d of %s: %w", fid, collection, err)
		}
		return renderHTML(c, http.StatusOK, "feature", htmlPage{Title: fmt.Sprintf("%s · feature %d", coll.title(), fid),
			Links: []htmlLink{alternate(c, "json", "GeoJSON"), {Href: "/api/collections/" + collection + "?f=html", Title: "the collection"}},
			Body:  map[string]any{"Rows": featureRows(f)}})
	}
	base := baseURL(c) + "/collections/" + collection
	links, _ := json.Marshal([]link{
		{Href: fmt.Sprintf("%s/items/%d", base, fid), Rel: "self", Type: mediaGeoJSON, Title: "this feature"},
		{Href: base, Rel: "collection", Type: mediaJSON, Title: "the collection"},
	})
	// Add the links as a member of the database-made feature.
	body := append(append(append(feature[:len(feature)-1:len(feature)-1], `,"links":`...), links...), '}')
	return c.Blob(http.StatusOK, mediaGeoJSON, body)
}

// htmlPageLimit caps the features of one HTML page: a table for people,
// not a download.
const htmlPageLimit = 1000

// itemsHTML answers an items request with an HTML table of the page.
func (s *Server) itemsHTML(ctx context.Context, c echo.Context, coll collection, req itemsRequest) error {
	if req.limit > htmlPageLimit {
		return geo.Invalidf("limit", "at most %d features per HTML page; use f=json for more", htmlPageLimit)
	}
	type row struct {
		ID    any
		Href  string
		Cells []any
	}
	var (
		rows    []row
		columns []string
		feats   []map[string]any
	)
	seen := map[string]bool{}
	page, err := req.stream(ctx, func(raw []byte) error {
		var f map[string]any
		if err := json.Unmarshal(raw, &f); err != nil {
			return fmt.Errorf("decode feature: %w", err)
		}
		props, _ := f["properties"].(map[string]any)
		for k := range props {
			if !seen[k] {
				seen[k] = true
				columns = append(columns, k)
			}
		}
		feats = append(feats, f)
		return nil
	})
	if err != nil {
		return err
	}
	sort.Strings(columns)
	base := "/api/collections/" + c.Param("collectionId")
	for _, f := range feats {
		props, _ := f["properties"].(map[string]any)
		r := row{ID: f["id"], Href: fmt.Sprintf("%s/items/%v?f=html", base, htmlValue(f["id"]))}
		for _, k := range columns {
			r.Cells = append(r.Cells, props[k])
		}
		rows = append(rows, r)
	}
	body := map[string]any{"Returned": page.Returned, "Columns": columns, "Rows": rows}
	if !page.HasNext && !page.HasPrev && c.QueryParam("cursor") == "" {
		body["Matched"] = page.Returned
	} else if n, exact, err := s.countMatched(ctx, c, req); err == nil && exact {
		body["Matched"] = n
	}
	for _, l := range pageLinks(c, page) {
		switch l.Rel {
		case "next":
			body["Next"] = withFormat(l.Href, "html")
		case "prev":
			body["Prev"] = withFormat(l.Href, "html")
		}
	}
	links := []htmlLink{alternate(c, "json", "GeoJSON"), {Href: base + "?f=html", Title: "the collection"}}
	if req.csv != nil {
		links = append(links, alternate(c, "csv", "CSV"))
	}
	return renderHTML(c, http.StatusOK, "items", htmlPage{Title: coll.title(), Links: links, Body: body})
}

// withFormat sets f on a link.
func withFormat(href, format string) string {
	u, err := url.Parse(href)
	if err != nil {
		return href
	}
	q := u.Query()
	q.Set("f", format)
	u.RawQuery = q.Encode()
	return u.String()
}
