package api

import (
	"encoding/json"
	"fmt"
	"html/template"
	"mime"
	"sort"
	"strings"

	"github.com/labstack/echo/v4"
)

// HTML views of the OGC API resources, for people who open the API in a
// browser: the same data as the JSON, every value escaped by html/template,
// linking to the map and to the other formats. JSON stays the default for
// every client that does not ask for HTML.

// htmlCSP lets the pages use their own inline style and nothing else: no
// script, no frames, no forms.
const htmlCSP = "default-src 'none'; style-src 'unsafe-inline'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'"

// wantsHTML reports whether the client asked for HTML: f=html, or no f and
// an Accept header that names text/html (browsers do; GDAL, QGIS, curl and
// fetch() do not).
func wantsHTML(c echo.Context) bool {
	switch strings.ToLower(c.QueryParam("f")) {
	case "html":
		return true
	case "":
		for part := range strings.SplitSeq(c.Request().Header.Get(echo.HeaderAccept), ",") {
			if mt, params, err := mime.ParseMediaType(strings.TrimSpace(part)); err == nil && mt == "text/html" && params["q"] != "0" {
				return true
			}
		}
	}
	return false
}

// htmlLink is a link on a page.
type htmlLink struct{ Href, Title string }

// htmlPage is what every page template gets.
type htmlPage struct {
	Title       string
	Description string
	Links       []htmlLink // other formats and related resources
	Body        any
}

var htmlTemplates = template.Must(template.New("layout").Funcs(template.FuncMap{
	"value": htmlValue,
}).Parse(`{{define "layout"}}<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>{{.Title}} · incidentmap</title>
<style>body{font:15px/1.45 system-ui,sans-serif;margin:1.5em auto;max-width:70em;padding:0 1em;color:#1b1b1b}
table{border-collapse:collapse;width:100%}th,td{border-bottom:1px solid #ddd;padding:.3em .5em;text-align:left;vertical-align:top}
th{background:#f3f3f3}nav a{margin-right:1em}code{background:#f3f3f3;padding:0 .2em}</style></head>
<body><nav><a href="/">Map</a><a href="/api?f=html">API</a><a href="/api/collections?f=html">Collections</a><a href="/api/docs">API documentation</a></nav>
<h1>{{.Title}}</h1>{{if .Description}}<p>{{.Description}}</p>{{end}}
{{if .Links}}<p>{{range $i, $l := .Links}}{{if $i}} · {{end}}<a href="{{$l.Href}}">{{$l.Title}}</a>{{end}}</p>{{end}}
{{template "body" .Body}}
</body></html>{{end}}`))

// htmlBodies are the page bodies, each parsed into its own copy of the layout.
var htmlBodies = map[string]*template.Template{
	"landing": mustBody(`{{define "body"}}<ul>{{range .}}<li><a href="{{.Href}}">{{.Title}}</a></li>{{end}}</ul>{{end}}`),
	"collections": mustBody(`{{define "body"}}<table><tr><th>Collection</th><th>Description</th><th>Formats</th></tr>
{{range .}}<tr><td><a href="/api/collections/{{.ID}}?f=html">{{.Title}}</a> <code>{{.ID}}</code></td><td>{{.Description}}</td>
<td><a href="/api/collections/{{.ID}}/items?f=html">features</a> · <a href="/api/collections/{{.ID}}/items?f=json">GeoJSON</a></td></tr>{{end}}</table>{{end}}`),
	"collection": mustBody(`{{define "body"}}<dl>{{if .Extent}}<dt>Extent</dt><dd>{{value .Extent}}</dd>{{end}}</dl>
<p><a href="{{.Href}}/items?f=html">Browse the features</a></p>{{end}}`),
	"items": mustBody(`{{define "body"}}<p>{{.Returned}} features{{if .Matched}} of {{.Matched}}{{end}}.
{{if .Prev}}<a href="{{.Prev}}">Previous page</a>{{end}} {{if .Next}}<a href="{{.Next}}">Next page</a>{{end}}</p>
<table><tr><th>id</th>{{range .Columns}}<th>{{.}}</th>{{end}}</tr>
{{range .Rows}}<tr><td><a href="{{.Href}}">{{.ID}}</a></td>{{range .Cells}}<td>{{value .}}</td>{{end}}</tr>{{end}}</table>{{end}}`),
	"feature": mustBody(`{{define "body"}}<table>{{range .Rows}}<tr><th>{{.Name}}</th><td>{{value .Value}}</td></tr>{{end}}</table>{{end}}`),
}

func mustBody(body string) *template.Template {
	return template.Must(template.Must(htmlTemplates.Clone()).Parse(body))
}

// htmlValue shows a JSON value as text: strings as they are, the rest as
// compact JSON. html/template escapes the result.
func htmlValue(v any) string {
	switch v := v.(type) {
	case nil:
		return ""
	case string:
		return v
	}
	b, err := json.Marshal(v)
	if err != nil {
		return fmt.Sprint(v)
	}
	return string(b)
}

// renderHTML writes page with the body template name.
func renderHTML(c echo.Context, status int, name string, page htmlPage) error {
	h := c.Response().Header()
	h.Set(echo.HeaderContentType, echo.MIMETextHTMLCharsetUTF8)
	h.Set("Content-Security-Policy", htmlCSP)
	var b strings.Builder
	if err := htmlBodies[name].ExecuteTemplate(&b, "layout", page); err != nil {
		return fmt.Errorf("render %s page: %w", name, err)
	}
	return c.HTMLBlob(status, []byte(b.String()))
}

// alternate is the link to this resource in another format.
func alternate(c echo.Context, format, title string) htmlLink {
	return htmlLink{Href: withFormat(baseURL(c)+strings.TrimPrefix(c.Request().URL.RequestURI(), "/api"), format), Title: title}
}

// featureRows are the properties of a GeoJSON feature, in name order, with
// the geometry last.
func featureRows(feature map[string]any) []struct {
	Name  string
	Value any
} {
	props, _ := feature["properties"].(map[string]any)
	names := make([]string, 0, len(props))
	for k := range props {
		names = append(names, k)
	}
	sort.Strings(names)
	rows := make([]struct {
		Name  string
		Value any
	}, 0, len(names)+1)
	for _, k := range names {
		rows = append(rows, struct {
			Name  string
			Value any
		}{k, props[k]})
	}
	rows = append(rows, struct {
		Name  string
		Value any
	}{"geometry", feature["geometry"]})
	return rows
}
