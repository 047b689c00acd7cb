// Package frontend holds incidentmap's map application: the sources under
// src/ are bundled by `npm run build` (see build.mjs) into dist/, which is
// embedded here so that the binary serves the map with no files beside it.
//
// dist/ is committed with only a .gitkeep, so the Go code builds on a fresh
// clone before npm has run; Built then reports false and the server answers
// 503 for the map instead of failing to compile.
package frontend

import (
	"embed"
	"io/fs"
)

// The all: prefix keeps dist/.gitkeep, without which an unbuilt dist/ would
// hold no embeddable file and the package would not compile.
//
//go:embed all:dist
var dist embed.FS

// IndexFile is the name of the application's HTML page in Dist.
const IndexFile = "index.html"

// DocsFile is the name of the API documentation page in Dist (served at
// /api/docs); its scripts and styles are under AssetsDir like the map's.
const DocsFile = "apidocs.html"

// AssetsDir is the directory of Dist holding the content-hashed bundle files.
const AssetsDir = "assets"

// Dist returns the built bundle: index.html at its root and hashed files
// under assets/.
func Dist() fs.FS {
	sub, err := fs.Sub(dist, "dist")
	if err != nil {
		panic(err) // "dist" is a valid, embedded path: cannot happen
	}
	return sub
}

// Built reports whether the bundle was built before this binary.
func Built() bool {
	_, err := fs.Stat(Dist(), IndexFile)
	return err == nil
}
