package webui

import (
	"encoding/json"
	"fmt"
	"io/fs"
	"maps"
	"net/http"
	"path"
	"slices"
	"strings"

	"github.com/labstack/echo/v4"

	"github.com/bangfu/bangfu/web"
)

// Languages the pages speak; the first is the default.
var Languages = []string{"zh-CN", "en"}

const langCookie = "bangfu_lang"

// Catalogue is one language's messages, key → text.
type Catalogue map[string]string

// loadCatalogues reads web/messages/<lang>/*.json for every language.
func loadCatalogues() (map[string]Catalogue, error) {
	out := map[string]Catalogue{}
	for _, lang := range Languages {
		cat := Catalogue{}
		files, err := fs.Glob(web.Messages, "messages/"+lang+"/*.json")
		if err != nil {
			return nil, err
		}
		for _, f := range files {
			b, err := fs.ReadFile(web.Messages, f)
			if err != nil {
				return nil, err
			}
			var m map[string]string
			if err := json.Unmarshal(b, &m); err != nil {
				return nil, fmt.Errorf("%s: %w", f, err)
			}
			for k := range m {
				if _, dup := cat[k]; dup {
					return nil, fmt.Errorf("%s: key %q is also in another file of %s", path.Base(f), k, lang)
				}
			}
			maps.Copy(cat, m)
		}
		out[lang] = cat
	}
	return out, nil
}

// MissingKeys lists, per language, the keys another language has and it
// lacks; a test keeps it empty.
func MissingKeys() (map[string][]string, error) {
	cats, err := loadCatalogues()
	if err != nil {
		return nil, err
	}
	all := map[string]bool{}
	for _, c := range cats {
		for k := range c {
			all[k] = true
		}
	}
	out := map[string][]string{}
	for lang, c := range cats {
		for k := range all {
			if _, ok := c[k]; !ok {
				out[lang] = append(out[lang], k)
			}
		}
		slices.Sort(out[lang])
	}
	return out, nil
}

// language picks the page language: the ?lang= switch (remembered in a
// cookie), else the cookie, else Accept-Language, else Chinese.
func language(c echo.Context) string {
	switch q := c.QueryParam("lang"); q {
	case "en", "zh", "zh-CN":
		lang := "zh-CN"
		if q == "en" {
			lang = "en"
		}
		c.SetCookie(&http.Cookie{Name: langCookie, Value: lang, Path: "/", SameSite: http.SameSiteLaxMode, MaxAge: 365 * 24 * 3600})
		return lang
	}
	if ck, err := c.Cookie(langCookie); err == nil {
		switch ck.Value {
		case "en":
			return "en"
		case "zh", "zh-CN":
			return "zh-CN"
		}
	}
	return fromAcceptLanguage(c.Request().Header.Get("Accept-Language"))
}

// fromAcceptLanguage returns English only when the browser prefers it to
// Chinese; Chinese is the default.
func fromAcceptLanguage(h string) string {
	for _, part := range strings.Split(h, ",") {
		tag, _, _ := strings.Cut(strings.TrimSpace(part), ";")
		tag = strings.ToLower(tag)
		switch {
		case strings.HasPrefix(tag, "zh"):
			return "zh-CN"
		case strings.HasPrefix(tag, "en"):
			return "en"
		}
	}
	return "zh-CN"
}
