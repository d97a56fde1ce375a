package main

import (
	"bytes"
	"context"
	"encoding/base64"
	"regexp"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5"
	"github.com/stretchr/testify/require"

	"github.com/bangfu/bangfu/internal/bench/synthetic"
	"github.com/bangfu/bangfu/internal/cnid"
	"github.com/bangfu/bangfu/internal/graduate"
	"github.com/bangfu/bangfu/internal/password"
	"github.com/bangfu/bangfu/internal/pgtest"
	"github.com/bangfu/bangfu/internal/sealed"
)

// runSeed runs `bangfu-bench seed args...` in-process with env.
func runSeed(t *testing.T, env map[string]string, args ...string) (string, error) {
	t.Helper()
	var out, errOut bytes.Buffer
	err := seed(context.Background(), args, func(k string) (string, bool) { v, ok := env[k]; return v, ok }, &out, &errOut)
	t.Logf("bangfu-bench seed %s: stderr:\n%s", strings.Join(args, " "), errOut.String())
	return out.String(), err
}

// TestSeed loads a small province as `make bench` loads the big one: the
// printed logins sign in with the printed password, the ID numbers open
// with the environment's data key (the one `bangfu serve` will use), and a
// second load into the same database is refused.
func TestSeed(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	url := pgtest.NewURL(t)
	key := bytes.Repeat([]byte{7}, 32)
	env := map[string]string{"BANGFU_DATA_KEY": base64.StdEncoding.EncodeToString(key), "BANGFU_LOG_LEVEL": "warn", "BANGFU_STATE_DIR": t.TempDir()}

	out, err := runSeed(t, env, "--db", url, "--students", "300", "--schools", "2", "--seed", "3", "--now", "2026-07-15", "--vacuum=false")
	require.NoError(t, err)
	require.Regexp(t, `(?m)^  students +300$`, out)
	require.Contains(t, out, "Every user's password: "+synthetic.Password)
	logins := regexp.MustCompile(`(?m)^  (admin|province|supervisor|counselor) +(\S+)`).FindAllStringSubmatch(out, -1)
	require.GreaterOrEqual(t, len(logins), 4, out)

	conn, err := pgx.Connect(ctx, url)
	require.NoError(t, err)
	defer conn.Close(ctx)
	for _, l := range logins {
		var role, hash string
		require.NoError(t, conn.QueryRow(ctx, `SELECT role, password_hash FROM users WHERE username = $1`, l[2]).Scan(&role, &hash), l[2])
		require.Equal(t, l[1], role, l[2])
		ok, err := password.Verify(synthetic.Password, hash)
		require.NoError(t, err)
		require.True(t, ok, "%s's password is the printed one", l[2])
	}
	var sealedID []byte
	require.NoError(t, conn.QueryRow(ctx, `SELECT id_number_sealed FROM students ORDER BY id LIMIT 1`).Scan(&sealedID))
	box, err := sealed.New(key)
	require.NoError(t, err)
	id, err := box.Open(graduate.FieldIDNumber, sealedID)
	require.NoError(t, err)
	require.Empty(t, cnid.ResidentIDProblem(id), "a valid 身份证号: %s", id)

	_, err = runSeed(t, env, "--db", url, "--students", "10", "--schools", "1")
	require.ErrorIs(t, err, synthetic.ErrNotEmpty)
}

func TestSeedRefusals(t *testing.T) {
	t.Parallel()
	prod := map[string]string{
		"BANGFU_ENV":               "prod",
		"BANGFU_TOKEN_SIGNING_KEY": base64.StdEncoding.EncodeToString(bytes.Repeat([]byte{1}, 32)),
		"BANGFU_DATA_KEY":          base64.StdEncoding.EncodeToString(bytes.Repeat([]byte{2}, 32)),
	}
	// The refusal comes before any connection: the address is unreachable.
	_, err := runSeed(t, prod, "--db", "postgres://x@127.0.0.1:1/x", "--students", "10")
	require.EqualError(t, err, "seed: refused when BANGFU_ENV=prod (synthetic users share a public password)")

	_, err = runSeed(t, map[string]string{"BANGFU_STATE_DIR": t.TempDir()}, "--db", "postgres://x@127.0.0.1:1/x", "--now", "15 July")
	require.ErrorContains(t, err, "--now must be RFC 3339")
}
