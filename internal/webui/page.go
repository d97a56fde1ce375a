package webui

import (
	"fmt"
	"net/url"
	"time"

	"github.com/bangfu/bangfu"
	"github.com/bangfu/bangfu/internal/directory"
)

// Page is what every page template gets: the language and its messages,
// the user and their navigation, what the previous request left to say
// (Flash), the problems of a form that did not go through (Error, Fields,
// with the user's input in Form), and the page's own content (Data).
type Page struct {
	Lang  string
	Title string
	// Path is the request's path, for marking the current navigation item.
	Path string
	// User is the logged-in user (nil on the login page), Actor what they
	// act as, Nav their navigation, Unread their unread notifications.
	User   *directory.User
	Actor  bangfu.Actor
	Nav    []NavItem
	Unread int
	// Flash is a message about the last action ("已保存").
	Flash string
	// Error is a message for the whole page or form; Fields a problem per
	// form field, already in the page's language; Form the input as the
	// user sent it, so that nothing typed is lost.
	Error  string
	Fields map[string]string
	Form   url.Values
	// Data is the page's own content.
	Data any

	cat      Catalogue
	problems *problemCatalogue
}

// T returns the message key in the page's language (the key itself when
// the catalogue lacks it, which TestCatalogues prevents for templates).
func (p *Page) T(key string) string {
	if v, ok := p.cat[key]; ok {
		return v
	}
	return key
}

// Tf formats message key with args.
func (p *Page) Tf(key string, args ...any) string { return fmt.Sprintf(p.T(key), args...) }

// Name returns the name of a code in the page's language: Name "dest" "10"
// is the name of destination code 10 (catalogue key "dest.10"). Unknown
// codes are shown as they are.
func (p *Page) Name(kind string, code any) string {
	c := fmt.Sprint(code)
	if v, ok := p.cat[kind+"."+c]; ok {
		return v
	}
	return c
}

// Role returns the name of the logged-in user's role.
func (p *Page) Role() string { return p.Name("role", p.Actor.Role) }

// Is reports whether the logged-in user has role r.
func (p *Page) Is(r string) bool { return string(p.Actor.Role) == r }

// V returns the value the user sent for form field name.
func (p *Page) V(name string) string { return p.Form.Get(name) }

// Checked reports whether the user sent value for field name (checkboxes,
// multiple selects).
func (p *Page) Checked(name, value string) bool {
	for _, v := range p.Form[name] {
		if v == value {
			return true
		}
	}
	return false
}

// E returns the problem with form field name, in the page's language.
func (p *Page) E(name string) string { return p.Fields[name] }

// Date formats a calendar day in the page's language: 2026年7月31日 or
// 31 Jul 2026. It takes bangfu.Date, *bangfu.Date, time.Time and
// *time.Time (shown as its day in Asia/Shanghai); nil is "".
func (p *Page) Date(v any) string {
	y, m, d, ok := dayOf(v)
	if !ok {
		return ""
	}
	if p.Lang == "en" {
		return fmt.Sprintf("%d %s %d", d, time.Month(m).String()[:3], y)
	}
	return fmt.Sprintf("%d年%d月%d日", y, m, d)
}

// DateTime formats a moment as its day and time in Asia/Shanghai.
func (p *Page) DateTime(v any) string {
	var t time.Time
	switch v := v.(type) {
	case time.Time:
		t = v
	case *time.Time:
		if v == nil {
			return ""
		}
		t = *v
	default:
		return p.Date(v)
	}
	return p.Date(t) + " " + t.In(bangfu.Shanghai).Format("15:04")
}

// ISODate formats a day as 2006-01-02, the value of an <input type="date">.
func (p *Page) ISODate(v any) string {
	y, m, d, ok := dayOf(v)
	if !ok {
		return ""
	}
	return fmt.Sprintf("%04d-%02d-%02d", y, m, d)
}

func dayOf(v any) (y, m, d int, ok bool) {
	var t time.Time
	switch v := v.(type) {
	case bangfu.Date:
		if v.IsZero() {
			return 0, 0, 0, false
		}
		t = v.Time()
	case *bangfu.Date:
		if v == nil || v.IsZero() {
			return 0, 0, 0, false
		}
		t = v.Time()
	case time.Time:
		if v.IsZero() {
			return 0, 0, 0, false
		}
		t = v.In(bangfu.Shanghai)
	case *time.Time:
		if v == nil {
			return 0, 0, 0, false
		}
		t = v.In(bangfu.Shanghai)
	default:
		return 0, 0, 0, false
	}
	yy, mm, dd := t.Date()
	return yy, int(mm), dd, true
}

// Percent formats a fraction as a percentage with one decimal.
func (p *Page) Percent(f float64) string { return fmt.Sprintf("%.1f%%", f*100) }
