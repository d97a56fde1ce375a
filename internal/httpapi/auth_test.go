package httpapi_test

import (
	"crypto/ed25519"
	"crypto/rand"
	"crypto/sha256"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
	"github.com/stretchr/testify/require"

	"github.com/bangfu/bangfu"
	"github.com/bangfu/bangfu/internal/apptest"
	"github.com/bangfu/bangfu/internal/auth"
	"github.com/bangfu/bangfu/internal/config"
	"github.com/bangfu/bangfu/internal/directory"
)

type loginResult struct {
	AccessToken  string `json:"access_token"`
	TokenType    string `json:"token_type"`
	ExpiresIn    int    `json:"expires_in"`
	RefreshToken string `json:"refresh_token"`
	User         struct {
		ID       int64       `json:"id"`
		Username string      `json:"username"`
		Role     bangfu.Role `json:"role"`
		SchoolID *int64      `json:"school_id"`
	} `json:"user"`
}

func login(t *testing.T, env *apptest.Env, username, password string) *apptest.Response {
	t.Helper()
	return env.Post(t, "/api/v1/auth/login", "", map[string]string{"username": username, "password": password})
}

func mustLogin(t *testing.T, env *apptest.Env, u directory.User) loginResult {
	t.Helper()
	r := login(t, env, u.Username, apptest.Password)
	require.Equal(t, http.StatusOK, r.Status, "%s", r.Body)
	var lr loginResult
	r.JSON(t, &lr)
	return lr
}

func TestLogin(t *testing.T) {
	t.Parallel()
	env := apptest.New(t)
	school := env.MustSchool(t)
	u := env.MustUser(t, bangfu.RoleCounselor, &school.ID)

	t.Run("right password", func(t *testing.T) {
		lr := mustLogin(t, env, u)
		require.Equal(t, "Bearer", lr.TokenType)
		require.Equal(t, 900, lr.ExpiresIn)
		require.NotEmpty(t, lr.RefreshToken)
		require.Equal(t, u.ID, lr.User.ID)
		require.Equal(t, bangfu.RoleCounselor, lr.User.Role)
		require.Equal(t, school.ID, *lr.User.SchoolID)

		me := env.Get(t, "/api/v1/me", lr.AccessToken)
		require.Equal(t, http.StatusOK, me.Status)
		require.Equal(t, u.Username, me.Map(t)["username"])
		require.NotContains(t, string(me.Body), "password")
	})

	t.Run("wrong password and unknown user look the same", func(t *testing.T) {
		wrong := login(t, env, u.Username, "not the password")
		unknown := login(t, env, "nobody-here", apptest.Password)
		require.Equal(t, http.StatusUnauthorized, wrong.Status)
		require.Equal(t, http.StatusUnauthorized, unknown.Status)
		require.Equal(t, wrong.Map(t), unknown.Map(t))
	})

	t.Run("missing fields are named", func(t *testing.T) {
		r := env.Post(t, "/api/v1/auth/login", "", map[string]string{})
		require.Equal(t, http.StatusBadRequest, r.Status)
		code, fields := r.Error(t)
		require.Equal(t, "invalid", code)
		require.Equal(t, "is required", fields["username"])
		require.Equal(t, "is required", fields["password"])
	})

	t.Run("unknown field and bad JSON", func(t *testing.T) {
		r := env.Post(t, "/api/v1/auth/login", "", map[string]any{"username": "a", "password": "b", "remember": true})
		require.Equal(t, http.StatusBadRequest, r.Status)
		_, fields := r.Error(t)
		require.Equal(t, "is not a known field", fields["remember"])

		r = env.Do(t, apptest.Call{Method: http.MethodPost, Path: "/api/v1/auth/login", Body: `{"username":`})
		require.Equal(t, http.StatusBadRequest, r.Status)
		_, fields = r.Error(t)
		require.Equal(t, "is not valid JSON", fields["body"])

		r = env.Post(t, "/api/v1/auth/login", "", map[string]any{"username": 12, "password": "x"})
		_, fields = r.Error(t)
		require.Equal(t, "must be a string", fields["username"])
	})
}

func TestLoginDisabledUser(t *testing.T) {
	t.Parallel()
	env := apptest.New(t)
	admin := env.MustUser(t, bangfu.RoleAdmin, nil)
	school := env.MustSchool(t)
	u := env.MustUser(t, bangfu.RoleCounselor, &school.ID)
	first := mustLogin(t, env, u)

	r := env.Do(t, apptest.Call{Method: http.MethodPatch, Path: "/api/v1/users/" + strconv.FormatInt(u.ID, 10),
		Token: env.Token(t, admin), Body: map[string]any{"disabled": true}, Header: map[string]string{"If-Match": `"1"`}})
	require.Equal(t, http.StatusOK, r.Status, "%s", r.Body)

	require.Equal(t, http.StatusUnauthorized, login(t, env, u.Username, apptest.Password).Status)
	// Refresh stops at once; the access token lives out its ≤15 minutes.
	require.Equal(t, http.StatusUnauthorized, env.Post(t, "/api/v1/auth/refresh", "", map[string]string{"refresh_token": first.RefreshToken}).Status)
	env.Clock.Advance(16 * time.Minute)
	require.Equal(t, http.StatusUnauthorized, env.Get(t, "/api/v1/me", first.AccessToken).Status)
}

func TestLoginLockout(t *testing.T) {
	t.Parallel()
	env := apptest.New(t)
	school := env.MustSchool(t)
	u := env.MustUser(t, bangfu.RoleCounselor, &school.ID)

	for range auth.DefaultThrottle.AccountFailures {
		require.Equal(t, http.StatusUnauthorized, login(t, env, u.Username, "wrong password!").Status)
	}
	// Locked: even the right password is refused, with a Retry-After.
	r := login(t, env, u.Username, apptest.Password)
	require.Equal(t, http.StatusTooManyRequests, r.Status)
	code, _ := r.Error(t)
	require.Equal(t, "too_many_requests", code)
	retry, err := strconv.Atoi(r.Header.Get("Retry-After"))
	require.NoError(t, err)
	require.Equal(t, int(auth.DefaultThrottle.Lockout.Seconds()), retry)

	// Another account from the same address still logs in.
	other := env.MustUser(t, bangfu.RoleCounselor, &school.ID)
	mustLogin(t, env, other)

	env.Clock.Advance(auth.DefaultThrottle.Lockout - time.Minute)
	r = login(t, env, u.Username, apptest.Password)
	require.Equal(t, http.StatusTooManyRequests, r.Status)
	require.Equal(t, "60", r.Header.Get("Retry-After"))

	env.Clock.Advance(time.Minute)
	mustLogin(t, env, u)
}

func TestLoginLockoutPerAddress(t *testing.T) {
	t.Parallel()
	env := apptest.New(t)
	for i := range auth.DefaultThrottle.IPFailures {
		require.Equal(t, http.StatusUnauthorized, login(t, env, "guess"+strconv.Itoa(i), "wrong password!").Status)
	}
	school := env.MustSchool(t)
	u := env.MustUser(t, bangfu.RoleCounselor, &school.ID)
	require.Equal(t, http.StatusTooManyRequests, login(t, env, u.Username, apptest.Password).Status)
}

// signed returns a token with the given claims and header, signed by key.
func signed(t *testing.T, key ed25519.PrivateKey, kid string, claims jwt.MapClaims) string {
	t.Helper()
	tok := jwt.NewWithClaims(jwt.SigningMethodEdDSA, claims)
	tok.Header["kid"] = kid
	s, err := tok.SignedString(key)
	require.NoError(t, err)
	return s
}

func TestAccessTokenVerification(t *testing.T) {
	t.Parallel()
	env := apptest.New(t)
	school := env.MustSchool(t)
	u := env.MustUser(t, bangfu.RoleSupervisor, &school.ID)
	good := env.Token(t, u)
	key := env.App.Config.SigningKey
	kid := auth.KeyID(key.Public().(ed25519.PublicKey))
	now := env.Clock.Now()
	claims := func() jwt.MapClaims {
		return jwt.MapClaims{
			"iss": "bangfu", "aud": "bangfu-api", "sub": strconv.FormatInt(u.ID, 10), "role": "supervisor",
			"sch": school.ID, "iat": now.Unix(), "exp": now.Add(10 * time.Minute).Unix(), "jti": "x",
		}
	}
	_, otherKey, err := ed25519.GenerateKey(rand.Reader)
	require.NoError(t, err)

	parts := strings.Split(good, ".")
	sig := []byte(parts[2])
	sig[5] ^= 1
	tampered := parts[0] + "." + parts[1] + "." + string(sig)

	noneTok := jwt.NewWithClaims(jwt.SigningMethodNone, claims())
	noneTok.Header["kid"] = kid
	none, err := noneTok.SignedString(jwt.UnsafeAllowNoneSignatureType)
	require.NoError(t, err)

	withClaim := func(k string, v any) string {
		c := claims()
		if v == nil {
			delete(c, k)
		} else {
			c[k] = v
		}
		return signed(t, key, kid, c)
	}

	require.Equal(t, http.StatusOK, env.Get(t, "/api/v1/me", good).Status)
	require.Equal(t, http.StatusOK, env.Get(t, "/api/v1/me", signed(t, key, kid, claims())).Status)
	for name, tok := range map[string]string{
		"tampered signature":  tampered,
		"alg none":            none,
		"unknown kid":         signed(t, otherKey, auth.KeyID(otherKey.Public().(ed25519.PublicKey)), claims()),
		"right kid wrong key": signed(t, otherKey, kid, claims()),
		"wrong audience":      withClaim("aud", "someone-else"),
		"wrong issuer":        withClaim("iss", "evil"),
		"no issuer":           withClaim("iss", nil),
		"no audience":         withClaim("aud", nil),
		"no expiry":           withClaim("exp", nil),
		"expired":             withClaim("exp", now.Add(-time.Minute).Unix()),
		"unknown role":        withClaim("role", "root"),
		"garbage":             "not-a-token",
	} {
		t.Run(name, func(t *testing.T) {
			r := env.Get(t, "/api/v1/me", tok)
			require.Equal(t, http.StatusUnauthorized, r.Status)
			code, _ := r.Error(t)
			require.Equal(t, "unauthenticated", code)
		})
	}

	t.Run("token expires with the clock", func(t *testing.T) {
		env.Clock.Advance(15*time.Minute + 10*time.Second)
		require.Equal(t, http.StatusUnauthorized, env.Get(t, "/api/v1/me", good).Status)
	})
}

// TestTokenForgedWithTheOldBuiltInKeyIsRefused: development once signed
// with a key derived from a string in the source; anyone could forge an
// admin token with it. A dev install now signs with a key of its own.
func TestTokenForgedWithTheOldBuiltInKeyIsRefused(t *testing.T) {
	t.Parallel()
	env := apptest.New(t)
	admin := env.MustUser(t, bangfu.RoleAdmin, nil)
	seed := sha256.Sum256([]byte("bangfu development signing key - never use in production"))
	oldKey := ed25519.NewKeyFromSeed(seed[:])
	now := env.Clock.Now()
	forged := signed(t, oldKey, auth.KeyID(oldKey.Public().(ed25519.PublicKey)), jwt.MapClaims{
		"iss": "bangfu", "aud": "bangfu-api", "sub": strconv.FormatInt(admin.ID, 10), "role": "admin",
		"iat": now.Unix(), "exp": now.Add(10 * time.Minute).Unix(), "jti": "forged",
	})
	r := env.Get(t, "/api/v1/users", forged)
	require.Equal(t, http.StatusUnauthorized, r.Status, "%s", r.Body)
	require.False(t, env.App.Config.SigningKey.Equal(oldKey))
	oldData := sha256.Sum256([]byte("bangfu development data key - never use in production"))
	require.NotEqual(t, oldData[:], env.App.Config.DataKey)
}

func TestKeyRotation(t *testing.T) {
	t.Parallel()
	_, oldKey, err := ed25519.GenerateKey(rand.Reader)
	require.NoError(t, err)
	env := apptest.New(t, apptest.Options{Config: func(c *config.Config) {
		c.VerifyKeys = append(c.VerifyKeys, oldKey.Public().(ed25519.PublicKey))
	}})
	school := env.MustSchool(t)
	u := env.MustUser(t, bangfu.RoleCounselor, &school.ID)
	now := env.Clock.Now()
	oldKid := auth.KeyID(oldKey.Public().(ed25519.PublicKey))
	tok := signed(t, oldKey, oldKid, jwt.MapClaims{
		"iss": "bangfu", "aud": "bangfu-api", "sub": strconv.FormatInt(u.ID, 10), "role": "counselor",
		"iat": now.Unix(), "exp": now.Add(10 * time.Minute).Unix(),
	})
	require.Equal(t, http.StatusOK, env.Get(t, "/api/v1/me", tok).Status, "a token signed by a retired key still verifies")

	r := env.Get(t, "/.well-known/jwks.json", "")
	require.Equal(t, http.StatusOK, r.Status)
	var set struct {
		Keys []auth.JWK `json:"keys"`
	}
	r.JSON(t, &set)
	require.Len(t, set.Keys, 2)
	require.Equal(t, auth.KeyID(env.App.Config.SigningKey.Public().(ed25519.PublicKey)), set.Keys[0].Kid, "the signing key comes first")
	require.Equal(t, oldKid, set.Keys[1].Kid)
}

func TestRefresh(t *testing.T) {
	t.Parallel()
	env := apptest.New(t)
	school := env.MustSchool(t)
	u := env.MustUser(t, bangfu.RoleCounselor, &school.ID)
	refresh := func(tok string) *apptest.Response {
		return env.Post(t, "/api/v1/auth/refresh", "", map[string]string{"refresh_token": tok})
	}

	t.Run("rotation", func(t *testing.T) {
		first := mustLogin(t, env, u)
		r := refresh(first.RefreshToken)
		require.Equal(t, http.StatusOK, r.Status, "%s", r.Body)
		var second loginResult
		r.JSON(t, &second)
		require.NotEqual(t, first.RefreshToken, second.RefreshToken)
		require.Equal(t, http.StatusOK, env.Get(t, "/api/v1/me", second.AccessToken).Status)

		r = refresh(second.RefreshToken)
		require.Equal(t, http.StatusOK, r.Status)
	})

	t.Run("reuse revokes the family", func(t *testing.T) {
		first := mustLogin(t, env, u)
		other := mustLogin(t, env, u) // another device: a different family
		r := refresh(first.RefreshToken)
		require.Equal(t, http.StatusOK, r.Status)
		var second loginResult
		r.JSON(t, &second)

		require.Equal(t, http.StatusUnauthorized, refresh(first.RefreshToken).Status, "a used token is refused")
		require.Equal(t, http.StatusUnauthorized, refresh(second.RefreshToken).Status, "its whole family is revoked")
		require.Equal(t, http.StatusOK, refresh(other.RefreshToken).Status, "other families are untouched")
	})

	t.Run("concurrent reuse lets at most one through", func(t *testing.T) {
		first := mustLogin(t, env, u)
		var wg sync.WaitGroup
		statuses := make([]int, 5)
		for i := range statuses {
			wg.Add(1)
			go func() {
				defer wg.Done()
				statuses[i] = refresh(first.RefreshToken).Status
			}()
		}
		wg.Wait()
		var ok int
		for _, s := range statuses {
			if s == http.StatusOK {
				ok++
			} else {
				require.Equal(t, http.StatusUnauthorized, s)
			}
		}
		require.LessOrEqual(t, ok, 1)
	})

	t.Run("expired", func(t *testing.T) {
		first := mustLogin(t, env, u)
		env.Clock.Advance(env.App.Config.RefreshTokenTTL + time.Minute)
		require.Equal(t, http.StatusUnauthorized, refresh(first.RefreshToken).Status)
	})

	t.Run("unknown and missing", func(t *testing.T) {
		require.Equal(t, http.StatusUnauthorized, refresh("made-up").Status)
		r := refresh("")
		require.Equal(t, http.StatusBadRequest, r.Status)
		_, fields := r.Error(t)
		require.Equal(t, "is required", fields["refresh_token"])
	})
}

func TestLogout(t *testing.T) {
	t.Parallel()
	env := apptest.New(t)
	school := env.MustSchool(t)
	u := env.MustUser(t, bangfu.RoleStudent, &school.ID)
	s := mustLogin(t, env, u)
	require.Equal(t, http.StatusUnauthorized, env.Post(t, "/api/v1/auth/logout", "", map[string]string{"refresh_token": s.RefreshToken}).Status)
	require.Equal(t, http.StatusNoContent, env.Post(t, "/api/v1/auth/logout", s.AccessToken, map[string]string{"refresh_token": s.RefreshToken}).Status)
	require.Equal(t, http.StatusUnauthorized, env.Post(t, "/api/v1/auth/refresh", "", map[string]string{"refresh_token": s.RefreshToken}).Status)
}

func TestRoleChangeRevokesRefresh(t *testing.T) {
	t.Parallel()
	env := apptest.New(t)
	admin := env.MustUser(t, bangfu.RoleAdmin, nil)
	school := env.MustSchool(t)
	u := env.MustUser(t, bangfu.RoleSupervisor, &school.ID)
	s := mustLogin(t, env, u)
	r := env.Do(t, apptest.Call{Method: http.MethodPatch, Path: "/api/v1/users/" + strconv.FormatInt(u.ID, 10),
		Token: env.Token(t, admin), Body: map[string]any{"role": "counselor"}, Header: map[string]string{"If-Match": `"1"`}})
	require.Equal(t, http.StatusOK, r.Status, "%s", r.Body)
	require.Equal(t, http.StatusUnauthorized, env.Post(t, "/api/v1/auth/refresh", "", map[string]string{"refresh_token": s.RefreshToken}).Status)
	relogin := mustLogin(t, env, u)
	require.Equal(t, bangfu.RoleCounselor, relogin.User.Role)
}

// TestImpossibleLoginsCountForLockout: a username no account can have (a
// 3 KB one, one with a NUL byte) is a wrong login — never a 500 from the
// database's index — and counts towards the lockout like any other
// failure; an 8 MiB one is refused as invalid before it reaches the service.
func TestImpossibleLoginsCountForLockout(t *testing.T) {
	t.Parallel()
	env := apptest.New(t)
	long := strings.Repeat("a", 3000)
	for range auth.DefaultThrottle.AccountFailures {
		r := login(t, env, long, "wrong password!")
		require.Equal(t, http.StatusUnauthorized, r.Status, "%s", r.Body)
	}
	require.Equal(t, http.StatusTooManyRequests, login(t, env, long, "wrong password!").Status, "the same impossible name is locked too")

	huge := env.Do(t, apptest.Call{Method: http.MethodPost, Path: "/api/v1/auth/login",
		Body: `{"username":"` + strings.Repeat("b", 8<<20) + `","password":"x"}`, Unchecked: true})
	// Past any string a body may hold: refused before the service, quickly.
	require.Equal(t, http.StatusBadRequest, huge.Status, "%.200s", huge.Body)
	_, fields := huge.Error(t)
	require.Contains(t, fields, "username")
	r := login(t, env, "nul\x00name", "wrong password!")
	require.Equal(t, http.StatusBadRequest, r.Status, "%s", r.Body)
	// The login form reaches the service without the JSON edge's checks.
	_, err := env.App.Auth.Login(t.Context(), "nul\x00name", "wrong password!", "127.0.0.1")
	require.Equal(t, bangfu.EUNAUTHENTICATED, bangfu.ErrorCode(err), "%v", err)

	// Every failure above counted against the address: the rest of its
	// allowance runs out, and then a real account is refused from it.
	school := env.MustSchool(t)
	u := env.MustUser(t, bangfu.RoleCounselor, &school.ID)
	used := auth.DefaultThrottle.AccountFailures + 1
	for i := used; i < auth.DefaultThrottle.IPFailures; i++ {
		require.Equal(t, http.StatusUnauthorized, login(t, env, strings.Repeat("c", 100+i), "x").Status)
	}
	require.Equal(t, http.StatusTooManyRequests, login(t, env, u.Username, apptest.Password).Status)
}
