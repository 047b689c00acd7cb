// Package migrations holds incidentmap's numbered SQL migrations, embedded so
// the binary can migrate any database it is pointed at.
package migrations

import "embed"

// FS holds the migration files (NNNNN_name.sql, goose format).
//
//go:embed *.sql
var FS embed.FS
