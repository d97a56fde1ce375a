package auth_test

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/bangfu/bangfu"
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
