// Package migrations holds the application's schema changes as numbered SQL
// files. Each file runs once, in its own transaction, in name order; a file
// is never edited after it has landed (add a new one instead).
package migrations

import "embed"

// FS holds the *.sql files of this directory.
//
//go:embed *.sql
var FS embed.FS
