package pgtest

import (
	"net/url"
	"strings"
)

// replaceDatabase returns connection string u naming database name instead
// of old. It understands URLs and keyword/value strings.
func replaceDatabase(u, old, name string) string {
	if parsed, err := url.Parse(u); err == nil && (parsed.Scheme == "postgres" || parsed.Scheme == "postgresql") {
		parsed.Path = "/" + name
		return parsed.String()
	}
	if old != "" && strings.Contains(u, "dbname="+old) {
		return strings.Replace(u, "dbname="+old, "dbname="+name, 1)
	}
	return u + " dbname=" + name
}
