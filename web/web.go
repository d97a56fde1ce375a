// Package web holds the browser pages' templates, static files and message
// catalogues, embedded in the binary. The pages speak zh-CN by default and
// English on request; every string they show is in a catalogue.
package web

import "embed"

// Templates are the page templates (html/template syntax): layout.html and
// partials (_*.html) are shared, every other file is one page.
//
//go:embed templates/*.html
var Templates embed.FS

// Static files are served under /static/.
//
//go:embed static
var Static embed.FS

// Messages are the catalogues: messages/<lang>/*.json, each a flat object
// of key → text, merged per language.
//
//go:embed messages
var Messages embed.FS
