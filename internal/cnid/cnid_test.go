package cnid_test

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/bangfu/bangfu/internal/cnid"
)

func TestResidentID(t *testing.T) {
	t.Parallel()
	// The example number of GB 11643.
	require.Empty(t, cnid.ResidentIDProblem("11010519491231002X"))
	require.Empty(t, cnid.ResidentIDProblem("11010519491231002x"))
	require.Equal(t, "has a wrong check digit", cnid.ResidentIDProblem("110105194912310021"))
	require.Equal(t, "has an impossible birth date", cnid.ResidentIDProblem("110105194913310020"))
	require.Equal(t, "must be 18 characters", cnid.ResidentIDProblem("1101051949"))
	require.Equal(t, "must be 17 digits and a check digit (0-9 or X)", cnid.ResidentIDProblem("11010519491231A02X"))
	require.Equal(t, "110***********002X", cnid.MaskResidentID("11010519491231002X"))

	// Issue 11: an area of 000000 and a year-0 birth date passed.
	for _, tc := range []struct{ first17, want string }{
		{"00000019900101001", "has an area code of no province"},
		{"99010119900101001", "has an area code of no province"},
		{"11010500000101001", "has an impossible birth date"},
		{"11010518991231001", "has an impossible birth date"},
	} {
		id := tc.first17 + string(cnid.ResidentIDCheck(tc.first17))
		require.Equal(t, tc.want, cnid.ResidentIDProblem(id), id)
	}
	for _, first17 := range []string{"44010620010101001", "65010219900101001", "81000019900101001", "83000019900101001"} {
		require.Empty(t, cnid.ResidentIDProblem(first17+string(cnid.ResidentIDCheck(first17))))
	}
}

func TestCreditCode(t *testing.T) {
	t.Parallel()
	first := "91440300MA5DEXAMP"
	code := first + string(cnid.CreditCodeCheck(first))
	require.Empty(t, cnid.CreditCodeProblem(code))
	// A published code: 腾讯科技（深圳）有限公司.
	require.Empty(t, cnid.CreditCodeProblem("9144030071526726XG"))
	require.Equal(t, "has a wrong check character", cnid.CreditCodeProblem("9144030071526726XA"))
	require.Equal(t, "may hold only digits and the letters ABCDEFGHJKLMNPQRTUWXY", cnid.CreditCodeProblem("9144030071526726IO"))
	require.Equal(t, "must be 18 characters", cnid.CreditCodeProblem("914403"))
}

func TestMasks(t *testing.T) {
	t.Parallel()
}

// FuzzResidentID: an accepted 身份证号 is 17 digits of a province's area
// and a real birth date from 1900, with the right check character; its
// masked form keeps its length and shows only its ends.
func FuzzResidentID(f *testing.F) {
	for _, s := range []string{"11010519491231002X", "11010519491231002x", "000000199001010018", "110105000001010010", " 11010519491231002X ", "１１0105", "11010519491231002\x00"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		problem := cnid.ResidentIDProblem(s)
		m := cnid.MaskResidentID(s)
		if len(m) != len(s) {
			t.Fatalf("mask of %q is %q", s, m)
		}
		if problem != "" {
			return
		}
		n := cnid.NormalizeResidentID(s)
		if len(n) != 18 || n[17] != cnid.ResidentIDCheck(n[:17]) {
			t.Fatalf("%q accepted", s)
		}
		for i := range 17 {
			if n[i] < '0' || n[i] > '9' {
				t.Fatalf("%q accepted with a non-digit", s)
			}
		}
		if n[:2] < "11" || n[:2] > "83" || n[6:8] < "19" {
			t.Fatalf("%q accepted: area %s, birth %s", s, n[:6], n[6:14])
		}
		if strings.ContainsAny(cnid.MaskResidentID(n)[3:14], "0123456789") {
			t.Fatalf("mask of %q shows the birth date", n)
		}
	})
}

// FuzzCreditCode: an accepted 统一社会信用代码 is 18 characters of its
// alphabet with the right check character.
func FuzzCreditCode(f *testing.F) {
	for _, s := range []string{"9144030071526726XG", "9144030071526726XA", "9144030071526726IO", "914403", "", "9144030071526726xg"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		if cnid.CreditCodeProblem(s) != "" {
			return
		}
		n := strings.ToUpper(strings.TrimSpace(s))
		if len(n) != 18 || n[17] != cnid.CreditCodeCheck(n[:17]) {
			t.Fatalf("%q accepted", s)
		}
	})
}
