package webui

import (
	"io/fs"
	"regexp"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/bangfu/bangfu/web"
)

// TestCatalogues: every language has every key, and every key a template
// names literally ({{.T "key"}}, {{$.T "key"}}, {{.Tf "key" …}}) exists.
func TestCatalogues(t *testing.T) {
	t.Parallel()
	missing, err := MissingKeys()
	require.NoError(t, err)
	for lang, keys := range missing {
		require.Empty(t, keys, "keys missing in %s", lang)
	}
	cats, err := loadCatalogues()
	require.NoError(t, err)
	used := regexp.MustCompile(`\.Tf? "([^"]+)"`)
	files, err := fs.Glob(web.Templates, "templates/*.html")
	require.NoError(t, err)
	for _, f := range files {
		b, err := fs.ReadFile(web.Templates, f)
		require.NoError(t, err)
		for _, m := range used.FindAllStringSubmatch(string(b), -1) {
			for _, lang := range Languages {
				_, ok := cats[lang][m[1]]
				require.True(t, ok, "%s uses %q, missing in the %s catalogue", f, m[1], lang)
			}
		}
	}
}

func TestLanguage(t *testing.T) {
	t.Parallel()
	for h, want := range map[string]string{
		"":                      "zh-CN",
		"zh-CN,zh;q=0.9":        "zh-CN",
		"en-US,en;q=0.9":        "en",
		"en-US,zh-CN;q=0.8":     "en",
		"zh-TW,en;q=0.5":        "zh-CN",
		"fr-FR,de;q=0.8":        "zh-CN",
		"fr-FR,en-GB;q=0.8,zh":  "en",
		"zh-Hans-CN;q=1,en;q=0": "zh-CN",
	} {
		require.Equal(t, want, fromAcceptLanguage(h), "Accept-Language %q", h)
	}
}
