// Package mask hides personal identifiers for roles that may see a record
// but not who it is about (province staff see names, student numbers and
// phone numbers masked).
package mask

import "strings"

// Name keeps a name's first character: 李明 → 李*.
func Name(s string) string {
	r := []rune(s)
	if len(r) <= 1 {
		return s
	}
	return string(r[0]) + strings.Repeat("*", len(r)-1)
}

// Tail shows only the last n characters of s.
func Tail(s string, n int) string {
	r := []rune(s)
	if len(r) <= n {
		return strings.Repeat("*", len(r))
	}
	return strings.Repeat("*", len(r)-n) + string(r[len(r)-n:])
}

// Hidden is how a hidden value is shown.
const Hidden = "******"

// Text hides free text, which may hold names (a summary, a note): Hidden
// when there is any, empty when there is none.
func Text(s string) string {
	if s == "" {
		return ""
	}
	return Hidden
}
