// Package web holds the browser pages' templates and static files, embedded
// in the binary. The pages speak zh-CN by default and English on request.
package web

import "embed"

// Templates are the page templates (html/template syntax).
//
//go:embed templates/*.html
var Templates embed.FS

// Static files are served under /static/.
//
//go:embed static
var Static embed.FS
