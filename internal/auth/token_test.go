package auth_test

import (
	"crypto/ed25519"
	"crypto/rand"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/bangfu/bangfu"
	"github.com/bangfu/bangfu/internal/apptest"
	"github.com/bangfu/bangfu/internal/auth"
)

func TestIssuedTokenCarriesTheActor(t *testing.T) {
	t.Parallel()
	tokens := benchTokens()
	school, dept, stu := int64(3), int64(4), int64(5)
	in := bangfu.Actor{UserID: 9, Username: "li", Role: bangfu.RoleStudent, SchoolID: &school, DepartmentID: &dept, StudentID: &stu}
	tok, err := tokens.Issue(in)
	require.NoError(t, err)
	out, err := tokens.Verify(tok)
	require.NoError(t, err)
	require.Equal(t, in, out)
}

func TestTokenCarriesTheTrainingBase(t *testing.T) {
	t.Parallel()
	tokens := benchTokens()
	base := int64(7)
	in := bangfu.Actor{UserID: 11, Username: "hz", Role: bangfu.RoleBase, BaseID: &base}
	tok, err := tokens.Issue(in)
	require.NoError(t, err)
	out, err := tokens.Verify(tok)
	require.NoError(t, err)
	require.Equal(t, in, out)
	require.True(t, out.AtBase(base))

	// A base role without its base (or a base on another role) is no actor.
	tok, err = tokens.Issue(bangfu.Actor{UserID: 12, Role: bangfu.RoleBase})
	require.NoError(t, err)
	_, err = tokens.Verify(tok)
	require.Equal(t, bangfu.EUNAUTHENTICATED, bangfu.ErrorCode(err))
}

// TestRememberedTokenStillExpires: a token verified once is answered from
// memory afterwards, but only until it expires, only as the actor it
// names (each answer its own copy), and a token that differs by one
// character is checked afresh and refused.
func TestRememberedTokenStillExpires(t *testing.T) {
	t.Parallel()
	clock := apptest.NewClock(time.Date(2026, 6, 1, 9, 0, 0, 0, time.UTC))
	_, k, err := ed25519.GenerateKey(rand.Reader)
	require.NoError(t, err)
	tokens := auth.NewTokens("bangfu", "bangfu-api", 15*time.Minute, k, []ed25519.PublicKey{k.Public().(ed25519.PublicKey)}, clock)
	school := int64(3)
	in := bangfu.Actor{UserID: 9, Role: bangfu.RoleCounselor, SchoolID: &school}
	tok, err := tokens.Issue(in)
	require.NoError(t, err)

	first, err := tokens.Verify(tok)
	require.NoError(t, err)
	*first.SchoolID = 99 // a request that changes its actor changes no other request's
	second, err := tokens.Verify(tok)
	require.NoError(t, err)
	require.Equal(t, in, second)

	// The signature's first character changed (its last may carry only
	// padding bits, which decode to the same signature): another token,
	// refused.
	sig := strings.LastIndexByte(tok, '.') + 1
	forged := tok[:sig] + map[bool]string{true: "A", false: "B"}[tok[sig] != 'A'] + tok[sig+1:]
	_, err = tokens.Verify(forged)
	require.Equal(t, bangfu.EUNAUTHENTICATED, bangfu.ErrorCode(err))

	clock.Advance(15*time.Minute + 4*time.Second) // within the leeway
	_, err = tokens.Verify(tok)
	require.NoError(t, err)
	clock.Advance(2 * time.Second)
	_, err = tokens.Verify(tok)
	require.Equal(t, bangfu.EUNAUTHENTICATED, bangfu.ErrorCode(err), "an expired token was still accepted")
}
