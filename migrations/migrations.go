// Package migrations holds the application's schema changes as numbered SQL
// files. Each file runs once, in its own transaction, in number order; a
// file whose first line is "-- bangfu:no-transaction" runs outside one,
// statement by statement (CREATE INDEX CONCURRENTLY). A file is never
// edited after it has landed — the runner keeps its checksum and refuses a
// changed one — add a new file instead.
package migrations

import "embed"

// FS holds the *.sql files of this directory.
//
//go:embed *.sql
var FS embed.FS
