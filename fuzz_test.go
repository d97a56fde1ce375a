package bangfu_test

import (
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/bangfu/bangfu"
)

// FuzzText: Problems.Text accepts only text a database can store and a
// person typed: valid UTF-8, no control characters but tab and newlines,
// within the cap, present when required.
func FuzzText(f *testing.F) {
	for _, s := range []string{"张三", "", " ", "a\x00b", "\t\n", strings.Repeat("长", 101), "\xff", "\u0085", "\u200b"} {
		f.Add(s, 100, true)
	}
	f.Fuzz(func(t *testing.T, s string, max int, required bool) {
		var p bangfu.Problems
		p.Text("f", s, max, required)
		if p.Err() != nil {
			return
		}
		switch {
		case !utf8.ValidString(s) || bangfu.HasControl(s):
			t.Fatalf("%q accepted with control characters", s)
		case utf8.RuneCountInString(s) > max:
			t.Fatalf("%q accepted past %d", s, max)
		case required && strings.TrimSpace(s) == "":
			t.Fatalf("empty %q accepted as required", s)
		}
		for _, r := range s {
			if r == 0 || (r < 0x20 && r != '\t' && r != '\n' && r != '\r') {
				t.Fatalf("%q accepted with %U", s, r)
			}
		}
	})
}

// FuzzEmail: an accepted address is short, has an @, and no space, line
// break or control character (it goes into mail headers).
func FuzzEmail(f *testing.F) {
	for _, s := range []string{"a@b.cn", "", "a b@c", "a@b\r\nBcc: x@y", "@", strings.Repeat("a", 250) + "@b.cn", "a@b\x00"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		var p bangfu.Problems
		p.Email("email", s)
		if p.Err() != nil || s == "" {
			return
		}
		if len(s) > 254 || !strings.Contains(s, "@") || strings.ContainsAny(s, " \r\n") || bangfu.HasControl(s) {
			t.Fatalf("%q accepted as an e-mail address", s)
		}
	})
}

// FuzzParseDate: an accepted date is a real day from MinYear to MaxYear
// written exactly as YYYY-MM-DD.
func FuzzParseDate(f *testing.F) {
	for _, s := range []string{"2026-07-31", "0000-01-01", "2026-02-29", "2024-02-29", "9999-12-31", "2026-7-1", "2026-07-31T00:00:00Z", "+2026-07-31", "２０２６-07-31"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		var p bangfu.Problems
		d := bangfu.ParseDate(&p, "d", s)
		if d == nil {
			if s != "" && p.Err() == nil {
				t.Fatalf("%q neither parsed nor refused", s)
			}
			return
		}
		if p.Err() != nil {
			t.Fatalf("%q parsed and refused", s)
		}
		if d.String() != s {
			t.Fatalf("%q read as %s", s, d)
		}
		if y := d.Time().Year(); y < bangfu.MinYear || y > bangfu.MaxYear {
			t.Fatalf("%q accepted: year %d", s, y)
		}
	})
}
