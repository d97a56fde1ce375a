// Package cnid validates, masks and completes the two national identifiers
// bangfu handles: the resident identity number (居民身份证号码, GB 11643) and
// the unified social credit code of employers (统一社会信用代码, GB 32100).
package cnid

import (
	"strings"
	"time"
)

var idWeights = [17]int{7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2}

const idChecks = "10X98765432"

// provinces are the first two digits of the area codes (GB/T 2260) of the
// provinces, autonomous regions and municipalities, and 81-83 of the
// residence permits of Hong Kong, Macao and Taiwan residents.
var provinces = map[string]bool{}

func init() {
	for _, p := range strings.Fields(`11 12 13 14 15 21 22 23 31 32 33 34 35 36 37 41 42 43 44 45 46
		50 51 52 53 54 61 62 63 64 65 71 81 82 83`) {
		provinces[p] = true
	}
}

// NormalizeResidentID upper-cases a trailing x and trims spaces.
func NormalizeResidentID(s string) string { return strings.ToUpper(strings.TrimSpace(s)) }

// ResidentIDProblem returns what is wrong with an 18-character resident
// identity number, or "" if it is valid: length, digits, the province of
// the area code, the birth date (from 1900) and the check digit are checked.
func ResidentIDProblem(s string) string {
	s = NormalizeResidentID(s)
	if len(s) != 18 {
		return "must be 18 characters"
	}
	for i := 0; i < 17; i++ {
		if s[i] < '0' || s[i] > '9' {
			return "must be 17 digits and a check digit (0-9 or X)"
		}
	}
	if !provinces[s[:2]] {
		return "has an area code of no province"
	}
	if birth, err := time.Parse("20060102", s[6:14]); err != nil || birth.Year() < 1900 {
		return "has an impossible birth date"
	}
	if s[17] != ResidentIDCheck(s[:17]) {
		return "has a wrong check digit"
	}
	return ""
}

// ResidentIDCheck returns the check character for the first 17 digits.
func ResidentIDCheck(first17 string) byte {
	sum := 0
	for i := 0; i < 17; i++ {
		sum += int(first17[i]-'0') * idWeights[i]
	}
	return idChecks[sum%11]
}

// MaskResidentID shows the first 3 and last 4 characters only.
func MaskResidentID(s string) string {
	if len(s) < 8 {
		return strings.Repeat("*", len(s))
	}
	return s[:3] + strings.Repeat("*", len(s)-7) + s[len(s)-4:]
}

const creditAlphabet = "0123456789ABCDEFGHJKLMNPQRTUWXY"

var creditWeights = [17]int{1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28}

// CreditCodeProblem returns what is wrong with a unified social credit
// code, or "" if it is valid.
func CreditCodeProblem(s string) string {
	s = strings.ToUpper(strings.TrimSpace(s))
	if len(s) != 18 {
		return "must be 18 characters"
	}
	for i := 0; i < 18; i++ {
		if strings.IndexByte(creditAlphabet, s[i]) < 0 {
			return "may hold only digits and the letters ABCDEFGHJKLMNPQRTUWXY"
		}
	}
	if s[17] != CreditCodeCheck(s[:17]) {
		return "has a wrong check character"
	}
	return ""
}

// CreditCodeCheck returns the check character for the first 17 characters.
func CreditCodeCheck(first17 string) byte {
	sum := 0
	for i := 0; i < 17; i++ {
		sum += strings.IndexByte(creditAlphabet, first17[i]) * creditWeights[i]
	}
	c := 31 - sum%31
	if c == 31 {
		c = 0
	}
	return creditAlphabet[c]
}
