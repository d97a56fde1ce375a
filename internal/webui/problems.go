package webui

import (
	"encoding/json"
	"fmt"
	"io/fs"
	"regexp"
	"slices"
	"strings"

	"github.com/bangfu/bangfu/web"
)

// The domain names each problem with an input field in English (the API's
// language). Pages show them in the page's language: a problems catalogue
// per language (web/messages/problems.<lang>.json) maps each English
// message to its translation. In a catalogue key, {} stands for a part that
// varies (a number, a date, a list of codes), carried over in order to the
// {} of the translation.

type problemPattern struct {
	re   *regexp.Regexp
	text string
}

// problemCatalogue translates problems into one language.
type problemCatalogue struct {
	exact    map[string]string
	patterns []problemPattern
}

func loadProblems(lang string) (*problemCatalogue, error) {
	pc := &problemCatalogue{exact: map[string]string{}}
	b, err := fs.ReadFile(web.Messages, "messages/problems."+lang+".json")
	if err != nil {
		return pc, nil // a language without a catalogue shows the English text
	}
	var m map[string]string
	if err := json.Unmarshal(b, &m); err != nil {
		return nil, fmt.Errorf("problems.%s.json: %w", lang, err)
	}
	for k, v := range m {
		if !strings.Contains(k, "{}") {
			pc.exact[k] = v
			continue
		}
		parts := strings.Split(k, "{}")
		for i := range parts {
			parts[i] = regexp.QuoteMeta(parts[i])
		}
		re, err := regexp.Compile("^" + strings.Join(parts, "(.+?)") + "$")
		if err != nil {
			return nil, fmt.Errorf("problems.%s.json: %q: %w", lang, k, err)
		}
		pc.patterns = append(pc.patterns, problemPattern{re, v})
	}
	// Longer keys are more specific: try them first.
	slices.SortStableFunc(pc.patterns, func(a, b problemPattern) int { return len(b.re.String()) - len(a.re.String()) })
	return pc, nil
}

// translate returns msg in the catalogue's language, and whether it knew it.
func (pc *problemCatalogue) translate(msg string) (string, bool) {
	if pc == nil {
		return msg, false
	}
	if v, ok := pc.exact[msg]; ok {
		return v, true
	}
	for _, p := range pc.patterns {
		m := p.re.FindStringSubmatch(msg)
		if m == nil {
			continue
		}
		out := p.text
		for _, part := range m[1:] {
			out = strings.Replace(out, "{}", part, 1)
		}
		return out, true
	}
	return msg, false
}
