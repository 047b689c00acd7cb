package api

import (
	"bytes"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"io/fs"
	"mime"
	"net/http"
	"net/url"
	"path"
	"strconv"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/incidentmap/incidentmap/frontend"
)

// Basemap defaults for the command line: OpenStreetMap's standard tiles.
// The map falls back to country outlines from the database when tiles
// cannot be loaded or none are configured (an empty TileURL).
const (
	DefaultTileURL         = "https://tile.openstreetmap.org/{z}/{x}/{y}.png"
	DefaultTileAttribution = "© OpenStreetMap contributors"
)

// notBuiltMessage is the answer for the map when the binary was built
// without the bundle (a fresh clone where npm has not run).
const notBuiltMessage = "frontend not built: run make build\n"

// mapConfig is GET /config.json: what the page needs from the server's
// configuration, fetched at start-up because the page itself is static.
type mapConfig struct {
	TileURL         string `json:"tileURL"`
	TileAttribution string `json:"tileAttribution"`
}

// mapConfigOf takes the basemap settings from the server's configuration.
func mapConfigOf(cfg Config) mapConfig {
	return mapConfig{TileURL: strings.TrimSpace(cfg.TileURL), TileAttribution: strings.TrimSpace(cfg.TileAttribution)}
}

// frontendApp serves the embedded map application.
type frontendApp struct {
	built     bool
	index     []byte
	indexETag string
	config    mapConfig
	csp       string
	assets    map[string]asset // by path in files, e.g. "assets/main-3F2A.js"
}

func newFrontendApp(files fs.FS, cfg mapConfig) (*frontendApp, error) {
	app := &frontendApp{config: cfg, csp: contentSecurityPolicy(cfg.TileURL)}
	index, err := fs.ReadFile(files, frontend.IndexFile)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return app, nil
	case err != nil:
		return nil, err
	}
	if app.assets, err = readAssets(files); err != nil {
		return nil, err
	}
	app.built, app.index, app.indexETag = true, index, contentETag(index)
	return app, nil
}

// frontendRoutes serves the map: / (the page), /assets/* (the bundle, named
// by content hash) and /config.json. One catch-all route does it, as a file
// server would: these are files, not API operations, so they stay out of the
// OpenAPI document, and more specific routes (/api, /healthz) take precedence.
func (s *Server) frontendRoutes() {
	app, err := newFrontendApp(frontend.Dist(), mapConfigOf(s.cfg))
	if err != nil {
		// The embedded file system cannot fail to read; keep the API up anyway.
		s.logger.Error("read embedded frontend", "err", err)
		app = &frontendApp{config: mapConfigOf(s.cfg)}
	}
	if !app.built {
		s.logger.Warn("frontend not built: the map answers 503; run make build")
	}
	s.echo.Match([]string{http.MethodGet, http.MethodHead}, "/*", app.serve)
}

func (app *frontendApp) serve(c echo.Context) error {
	app.setSecurityHeaders(c.Response().Header())
	p := c.Request().URL.Path
	switch {
	case p == "/" || p == "/"+frontend.IndexFile:
		return app.serveIndex(c)
	case p == "/config.json":
		c.Response().Header().Set("Cache-Control", "no-cache")
		return c.JSON(http.StatusOK, app.config)
	case strings.HasPrefix(p, "/"+frontend.AssetsDir+"/"):
		return app.serveAsset(c, strings.TrimPrefix(p, "/"))
	}
	return echo.ErrNotFound
}

// setSecurityHeaders applies the page's policy to every frontend response.
func (app *frontendApp) setSecurityHeaders(h http.Header) {
	h.Set("Content-Security-Policy", app.csp)
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Referrer-Policy", "no-referrer")
}

func (app *frontendApp) serveIndex(c echo.Context) error {
	if !app.built {
		c.Response().Header().Set("Retry-After", "60")
		return c.String(http.StatusServiceUnavailable, notBuiltMessage)
	}
	h := c.Response().Header()
	// no-cache: revalidate on every load so a new release's asset names are
	// picked up at once; the ETag keeps that cheap.
	h.Set("Cache-Control", "no-cache")
	h.Set("ETag", app.indexETag)
	h.Set(echo.HeaderContentType, echo.MIMETextHTMLCharsetUTF8)
	http.ServeContent(c.Response(), c.Request(), frontend.IndexFile, time.Time{}, bytes.NewReader(app.index))
	return nil
}

// serveAsset serves a hashed bundle file, precompressed when the build
// wrote a .gz beside it and the client takes gzip.
func (app *frontendApp) serveAsset(c echo.Context, name string) error {
	a, ok := app.assets[name]
	if !ok {
		return echo.ErrNotFound
	}
	h := c.Response().Header()
	h.Add("Vary", "Accept-Encoding")
	h.Set(echo.HeaderContentType, a.contentType)
	// The name changes whenever the content does, so caches may keep it forever.
	h.Set("Cache-Control", "public, max-age=31536000, immutable")
	body, etag := a.body, a.etag
	if a.gzip != nil && acceptsGzip(c.Request().Header.Get("Accept-Encoding")) {
		body, etag = a.gzip, a.gzipETag
		h.Set("Content-Encoding", "gzip")
	}
	h.Set("ETag", etag)
	http.ServeContent(c.Response(), c.Request(), name, time.Time{}, bytes.NewReader(body))
	return nil
}

// asset is one file of the bundle, read once at start-up.
type asset struct {
	contentType    string
	body, gzip     []byte // gzip is nil when the build wrote no .gz
	etag, gzipETag string
}

// readAssets loads every file under assets/ but the .gz companions, which
// it attaches to the file they compress.
func readAssets(files fs.FS) (map[string]asset, error) {
	assets := map[string]asset{}
	err := fs.WalkDir(files, frontend.AssetsDir, func(name string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || path.Ext(name) == ".gz" {
			return err
		}
		body, err := fs.ReadFile(files, name)
		if err != nil {
			return err
		}
		a := asset{contentType: mime.TypeByExtension(path.Ext(name)), body: body, etag: contentETag(body)}
		if a.contentType == "" {
			a.contentType = "application/octet-stream"
		}
		if gz, err := fs.ReadFile(files, name+".gz"); err == nil {
			a.gzip = gz
			// A different representation needs a different validator.
			a.gzipETag = strings.TrimSuffix(a.etag, `"`) + `-gzip"`
		}
		assets[name] = a
		return nil
	})
	if errors.Is(err, fs.ErrNotExist) {
		return assets, nil
	}
	return assets, err
}

// acceptsGzip reports whether an Accept-Encoding header allows gzip.
func acceptsGzip(header string) bool {
	for _, part := range strings.Split(header, ",") {
		coding, params, _ := strings.Cut(strings.TrimSpace(part), ";")
		if !strings.EqualFold(strings.TrimSpace(coding), "gzip") {
			continue
		}
		// "gzip;q=0" refuses it; any other weight accepts it.
		name, value, _ := strings.Cut(strings.TrimSpace(params), "=")
		if strings.EqualFold(strings.TrimSpace(name), "q") {
			q, err := strconv.ParseFloat(strings.TrimSpace(value), 64)
			return err != nil || q > 0
		}
		return true
	}
	return false
}

// contentETag is a strong validator derived from a file's bytes.
func contentETag(b []byte) string {
	sum := sha256.Sum256(b)
	return `"` + base64.RawURLEncoding.EncodeToString(sum[:18]) + `"`
}

// contentSecurityPolicy is the page's policy. Tiles may come from any https
// host (the operator chooses it); a plain-http tile server, as a local one
// would be, is allowed by its exact origin only. blob: is for report photos
// in the moderation view: they need the moderator's bearer token, so the
// page fetches them itself and shows them through object URLs.
func contentSecurityPolicy(tileURL string) string {
	img := "img-src 'self' data: blob: https:"
	if origin := httpTileOrigin(tileURL); origin != "" {
		img += " " + origin
	}
	return strings.Join([]string{
		"default-src 'self'",
		img,
		"style-src 'self'",
		"script-src 'self'",
		"connect-src 'self'",
		"frame-ancestors 'none'",
		"base-uri 'none'",
		"form-action 'self'",
	}, "; ")
}

// httpTileOrigin returns the CSP source for a plain-http tile URL template,
// or "" when it is https, empty or not safe to put in the header. A
// subdomain placeholder ("{s}.tiles.example") becomes a wildcard.
func httpTileOrigin(tileURL string) string {
	if !strings.HasPrefix(strings.ToLower(tileURL), "http://") {
		return ""
	}
	u, err := url.Parse(strings.Replace(tileURL, "{s}.", "x-sub.", 1))
	if err != nil || u.Host == "" {
		return ""
	}
	host := u.Host
	if strings.HasPrefix(host, "x-sub.") && strings.Contains(tileURL, "{s}.") {
		host = "*." + strings.TrimPrefix(host, "x-sub.")
	}
	for _, r := range host {
		// Host names, IPv4/IPv6 literals and ports; nothing that could end
		// the directive or inject another one.
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || strings.ContainsRune(".-:[]*", r)) {
			return ""
		}
	}
	return "http://" + host
}
