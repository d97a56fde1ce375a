package request_test

import (
	"errors"
	"math"
	"net/http"
	"net/http/httptest"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/bangfu/bangfu"
	"github.com/bangfu/bangfu/internal/http/request"
)

// fuzzBody has the shapes request bodies have: nested objects, arrays of
// objects, pointers, a Nullable, times, 32-bit and 64-bit numbers.
type fuzzBody struct {
	Name     string                 `json:"name"`
	Year     int                    `json:"year"`
	ID       int64                  `json:"id"`
	Ratio    float64                `json:"ratio"`
	Flag     *bool                  `json:"flag"`
	Note     *string                `json:"note"`
	At       time.Time              `json:"at"`
	Tags     []string               `json:"tags"`
	Days     [3]int                 `json:"days"`
	Dept     bangfu.Nullable[int64] `json:"dept"`
	Count    bangfu.Nullable[int]   `json:"count"`
	Items    []fuzzItem             `json:"items"`
	Referral *fuzzItem              `json:"referral"`
}

type fuzzItem struct {
	Kind  string `json:"kind"`
	Due   string `json:"due"`
	Order int    `json:"order"`
}

// FuzzBind: whatever the body, Bind answers either a value whose every
// string is free of control characters and capped, and whose every int
// fits 32 bits — or an invalid (or too_large) error naming fields. It
// never panics and never returns an error a client would see as internal.
func FuzzBind(f *testing.F) {
	for _, s := range []string{
		`{"name":"张三","year":2026,"items":[{"kind":"a","order":1}]}`,
		`{"name":"a\u0000b"}`, `{"year":9223372036854775807}`, `{"at":"2026-07-31"}`, `{"items":[{"due":"x"}],"at":"nope"}`,
		`{"dept":null,"count":4294967296}`, `{"tags":["\u001b"]}`, `[]`, `{"x":1}`, `{"name":"a"}{}`, `{"days":[1,2,3,4]}`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		var v fuzzBody
		err := request.BindBytes(body, &v)
		if err != nil {
			var e *bangfu.Error
			if !errors.As(err, &e) || (e.Code != bangfu.EINVALID && e.Code != bangfu.ETOOLARGE) {
				t.Fatalf("error a client sees as internal: %v", err)
			}
			if e.Code == bangfu.EINVALID && len(e.Fields) == 0 {
				t.Fatalf("invalid without a field: %v", err)
			}
			for k, msg := range e.Fields {
				if k == "" || msg == "" || bangfu.HasControl(msg) {
					t.Fatalf("bad field problem %q: %q", k, msg)
				}
			}
			return
		}
		checkClean(t, reflect.ValueOf(v), "body")
	})
}

func checkClean(t *testing.T, v reflect.Value, path string) {
	switch v.Kind() {
	case reflect.Pointer:
		if !v.IsNil() {
			checkClean(t, v.Elem(), path)
		}
	case reflect.String:
		if bangfu.HasControl(v.String()) || len(v.String()) > request.MaxTextBytes {
			t.Fatalf("%s passed with %q", path, v.String())
		}
	case reflect.Int:
		if v.Int() > math.MaxInt32 || v.Int() < math.MinInt32 {
			t.Fatalf("%s passed with %d", path, v.Int())
		}
	case reflect.Struct:
		for i := range v.NumField() {
			if v.Type().Field(i).IsExported() {
				checkClean(t, v.Field(i), path+"."+v.Type().Field(i).Name)
			}
		}
	case reflect.Slice, reflect.Array:
		for i := range v.Len() {
			checkClean(t, v.Index(i), path)
		}
	}
}

// FuzzQuery: whatever the query string, reading parameters never panics;
// values read are clean (no control characters, ids positive), and every
// problem is an invalid error naming the parameter.
func FuzzQuery(f *testing.F) {
	for _, s := range []string{
		"q=%E5%BC%A0&limit=20", "q=%00", "cursor=YzkyMjMzNzIwMzY4NTQ3NzU4MDc", "limit=99999999999", "school_id=-1",
		"since=0000-01-01&until=2026-07-31T09:00:00%2B08:00", "overdue=maybe", "level=2147483648", "unknown=1", "q=a&q=b", "%zz",
	} {
		f.Add(s)
	}
	e := echo.New()
	f.Fuzz(func(t *testing.T, raw string) {
		req := httptest.NewRequest(http.MethodGet, "/", nil)
		req.URL.RawQuery = raw
		c := e.NewContext(req, httptest.NewRecorder())
		q, err := request.Params(c, "q", "limit", "cursor", "school_id", "since", "until", "overdue", "level")
		checkInvalid(t, err)
		if err != nil {
			return
		}
		if s := q.String("q"); bangfu.HasControl(s) || s != strings.TrimSpace(s) {
			t.Fatalf("q read as %q", s)
		}
		if id := q.ID("school_id"); id != nil && *id < 1 {
			t.Fatalf("school_id read as %d", *id)
		}
		_ = q.Int("level", 0)
		_ = q.Bool("overdue")
		for _, name := range []string{"since", "until"} {
			if tm := q.Time(name); tm != nil && tm.IsZero() {
				t.Fatalf("%s read as zero", name)
			}
		}
		if pg := q.Page(); pg.Limit < 1 && q.Err() == nil {
			t.Fatalf("limit %d accepted", pg.Limit)
		}
		checkInvalid(t, q.Err())
	})
}

func checkInvalid(t *testing.T, err error) {
	t.Helper()
	if err == nil {
		return
	}
	var e *bangfu.Error
	if !errors.As(err, &e) || e.Code != bangfu.EINVALID || len(e.Fields) == 0 {
		t.Fatalf("not an invalid error naming a parameter: %v", err)
	}
}
