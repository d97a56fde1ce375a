package apptest

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"path/filepath"
	"regexp"
	"runtime"
	"strings"
	"sync"
	"testing"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/openapi3filter"
	"github.com/getkin/kin-openapi/routers"
	"github.com/getkin/kin-openapi/routers/gorillamux"
)

var (
	specOnce   sync.Once
	specRouter routers.Router
	specErr    error
)

// SpecPath is docs/openapi.yaml in this checkout.
func SpecPath() string {
	_, file, _, _ := runtime.Caller(0)
	return filepath.Join(filepath.Dir(file), "..", "..", "docs", "openapi.yaml")
}

func loadSpec() (routers.Router, error) {
	specOnce.Do(func() {
		loader := openapi3.NewLoader()
		doc, err := loader.LoadFromFile(SpecPath())
		if err != nil {
			specErr = err
			return
		}
		if err := doc.Validate(context.Background()); err != nil {
			specErr = err
			return
		}
		// Validate against any server: tests run on random ports.
		doc.Servers = nil
		specRouter, specErr = gorillamux.NewRouter(doc)
	})
	return specRouter, specErr
}

// checkAgainstSpec fails t when the exchange is not described by
// docs/openapi.yaml: an unknown route, or a status, header or body that the
// spec does not allow. Only /api/v1 and the public operational routes are
// described; other paths (the jobs UI) are not checked.
func checkAgainstSpec(t testing.TB, req *http.Request, reqBody []byte, resp *http.Response, respBody []byte) {
	t.Helper()
	if !strings.HasPrefix(req.URL.Path, "/api/v1/") && req.URL.Path != "/healthz" && req.URL.Path != "/readyz" && req.URL.Path != "/.well-known/jwks.json" {
		return
	}
	router, err := loadSpec()
	if err != nil {
		t.Fatalf("docs/openapi.yaml: %v", err)
	}
	r := req.Clone(context.Background())
	r.Body = io.NopCloser(bytes.NewReader(reqBody))
	route, params, err := router.FindRoute(r)
	if err != nil {
		t.Errorf("docs/openapi.yaml does not describe %s %s: %v", req.Method, req.URL.Path, err)
		return
	}
	in := &openapi3filter.ResponseValidationInput{
		RequestValidationInput: &openapi3filter.RequestValidationInput{
			Request: r, PathParams: params, Route: route,
			Options: &openapi3filter.Options{AuthenticationFunc: openapi3filter.NoopAuthenticationFunc},
		},
		Status: resp.StatusCode,
		Header: resp.Header,
		Options: &openapi3filter.Options{
			IncludeResponseStatus: true,
			MultiError:            true,
		},
	}
	in.SetBodyBytes(respBody)
	if err := openapi3filter.ValidateResponse(context.Background(), in); err != nil {
		t.Errorf("response to %s %s (%d) does not match docs/openapi.yaml: %v\nbody: %s", req.Method, req.URL.Path, resp.StatusCode, err, truncate(respBody))
	}
}

func truncate(b []byte) string {
	if len(b) > 2000 {
		return string(b[:2000]) + "…"
	}
	return string(b)
}

// QueryParameters returns, for each operation of docs/openapi.yaml ("GET
// /api/v1/students", in the router's path syntax), the names of its query
// parameters.
func QueryParameters(t testing.TB) map[string][]string {
	t.Helper()
	doc, err := openapi3.NewLoader().LoadFromFile(SpecPath())
	if err != nil {
		t.Fatalf("docs/openapi.yaml: %v", err)
	}
	param := regexp.MustCompile(`\{([a-z_]+)\}`)
	out := map[string][]string{}
	for path, item := range doc.Paths.Map() {
		for method, op := range item.Operations() {
			key := method + " " + param.ReplaceAllString(path, ":$1")
			for _, ps := range append(item.Parameters, op.Parameters...) {
				if ps.Value != nil && ps.Value.In == "query" {
					out[key] = append(out[key], ps.Value.Name)
				}
			}
		}
	}
	return out
}

// RequestSchemas returns, for each operation of docs/openapi.yaml with a
// JSON request body ("POST /api/v1/students/:id/ledger", in the router's
// path syntax), the names of its body's top-level properties.
func RequestSchemas(t testing.TB) map[string][]string {
	t.Helper()
	doc, err := openapi3.NewLoader().LoadFromFile(SpecPath())
	if err != nil {
		t.Fatalf("docs/openapi.yaml: %v", err)
	}
	param := regexp.MustCompile(`\{([a-z_]+)\}`)
	out := map[string][]string{}
	for path, item := range doc.Paths.Map() {
		for method, op := range item.Operations() {
			if op.RequestBody == nil || op.RequestBody.Value == nil {
				continue
			}
			mt := op.RequestBody.Value.Content.Get("application/json")
			if mt == nil || mt.Schema == nil || mt.Schema.Value == nil {
				continue
			}
			var names []string
			for name := range mt.Schema.Value.Properties {
				names = append(names, name)
			}
			out[method+" "+param.ReplaceAllString(path, ":$1")] = names
		}
	}
	return out
}
