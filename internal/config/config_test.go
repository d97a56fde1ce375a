package config_test

import (
	"crypto/ed25519"
	"crypto/sha256"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/bangfu/bangfu/internal/config"
)

func env(kv map[string]string) config.Lookup {
	return func(k string) (string, bool) {
		v, ok := kv[k]
		return v, ok
	}
}

func TestDefaults(t *testing.T) {
	t.Parallel()
	c, err := config.Load(env(map[string]string{"DATABASE_URL": "postgres://x@y/z", "BANGFU_STATE_DIR": t.TempDir()}))
	require.NoError(t, err)
	require.Equal(t, config.EnvDev, c.Env)
	require.Equal(t, ":8080", c.Addr)
	require.Equal(t, 15*time.Minute, c.AccessTokenTTL)
	require.True(t, c.GeneratedKeys)
	require.Len(t, c.DataKey, 32)
	require.Len(t, c.VerifyKeys, 1)
	require.Equal(t, "text", c.LogFormat)
	require.Empty(t, c.DatabaseReadURL, "no replica unless one is named")
	require.Equal(t, 10*time.Second, c.DatabaseReadMaxLag)
	require.Equal(t, int64(160_000_000), c.MemoryLimit, "sizes are decimal, as BANGFU_BODY_LIMIT's")

	c, err = config.Load(env(map[string]string{"DATABASE_URL": "postgres://x@y/z", "BANGFU_STATE_DIR": t.TempDir(), "BANGFU_MEMORY_LIMIT": "0"}))
	require.NoError(t, err)
	require.Zero(t, c.MemoryLimit, "0 leaves the runtime alone")
}

func TestBadValuesNameTheVariable(t *testing.T) {
	t.Parallel()
	base := map[string]string{"DATABASE_URL": "postgres://x@y/z"}
	for name, tc := range map[string]struct {
		k, v, want string
	}{
		"env":          {"BANGFU_ENV", "staging", `BANGFU_ENV: must be dev or prod, got "staging"`},
		"addr":         {"BANGFU_ADDR", "8080", `BANGFU_ADDR: must be host:port or :port, got "8080"`},
		"ttl too long": {"BANGFU_ACCESS_TOKEN_TTL", "1h", `BANGFU_ACCESS_TOKEN_TTL: must be a duration from 30s to 15m0s (like 30s or 15m), got "1h"`},
		"pool":         {"BANGFU_DB_MAX_CONNS", "lots", `BANGFU_DB_MAX_CONNS: must be a whole number from 2 to 1000, got "lots"`},
		"data key":     {"BANGFU_DATA_KEY", "c2hvcnQ=", "BANGFU_DATA_KEY: must be 32 random bytes in base64 (run `bangfu keys generate`)"},
		"proxies":      {"BANGFU_TRUSTED_PROXIES", "10.0.0.0/8, nonsense", `BANGFU_TRUSTED_PROXIES: "nonsense" is not an IP address or CIDR range`},
		"smtp":         {"BANGFU_SMTP_URL", "mail.example.com", "BANGFU_SMTP_URL: must look like smtp://user:password@host:587"},
		"body limit":   {"BANGFU_BODY_LIMIT", "12 potatoes", `BANGFU_BODY_LIMIT: must be a size from 1K to 1G (like 12M or 512K), got "12 potatoes"`},
		"memory limit": {"BANGFU_MEMORY_LIMIT", "12M", `BANGFU_MEMORY_LIMIT: must be a size from 64M to 1T (like 160M or 2G), or 0 for none, got "12M"`},
		"body limit 0": {"BANGFU_BODY_LIMIT", "0", `BANGFU_BODY_LIMIT: must be a size from 1K to 1G (like 12M or 512K), got "0"`},
		"replica lag":  {"BANGFU_DATABASE_READ_MAX_LAG", "0s", `BANGFU_DATABASE_READ_MAX_LAG: must be a duration from 1s to 10m0s (like 30s or 15m), got "0s"`},
		"replica":      {"BANGFU_DATABASE_READ_URL", "postgres://x@y/z", "BANGFU_DATABASE_READ_URL: must be a replica, not DATABASE_URL itself (leave it empty to read from the primary)"},
		"signing key":  {"BANGFU_TOKEN_SIGNING_KEY", "xyz", "BANGFU_TOKEN_SIGNING_KEY: must be a PKCS#8 PEM Ed25519 private key or a base64 32-byte seed"},
	} {
		t.Run(name, func(t *testing.T) {
			kv := map[string]string{tc.k: tc.v}
			for k, v := range base {
				kv[k] = v
			}
			_, err := config.Load(env(kv))
			require.EqualError(t, err, tc.want)
		})
	}
	_, err := config.Load(env(nil))
	require.ErrorContains(t, err, "DATABASE_URL: is required")
}

func TestProdNeedsRealKeys(t *testing.T) {
	t.Parallel()
	_, err := config.Load(env(map[string]string{"DATABASE_URL": "postgres://x@y/z", "BANGFU_ENV": "prod"}))
	require.EqualError(t, err, "BANGFU_TOKEN_SIGNING_KEY: is required when BANGFU_ENV=prod (run `bangfu keys generate`)")

	c, err := config.Load(env(map[string]string{
		"DATABASE_URL": "postgres://x@y/z", "BANGFU_ENV": "prod",
		"BANGFU_TOKEN_SIGNING_KEY": "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=",
		"BANGFU_DATA_KEY":          "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=",
	}))
	require.NoError(t, err)
	require.False(t, c.GeneratedKeys)
	require.Equal(t, "json", c.LogFormat)
}

func TestSecretsFromFiles(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	file := filepath.Join(dir, "db")
	require.NoError(t, os.WriteFile(file, []byte("postgres://secret@db/bangfu\n"), 0o600))
	c, err := config.Load(env(map[string]string{"DATABASE_URL_FILE": file, "BANGFU_STATE_DIR": dir}))
	require.NoError(t, err)
	require.Equal(t, "postgres://secret@db/bangfu", c.DatabaseURL)

	_, err = config.Load(env(map[string]string{"DATABASE_URL_FILE": file, "DATABASE_URL": "x"}))
	require.EqualError(t, err, "DATABASE_URL: set either DATABASE_URL or DATABASE_URL_FILE, not both")

	_, err = config.Load(env(map[string]string{"DATABASE_URL_FILE": filepath.Join(dir, "missing")}))
	require.ErrorContains(t, err, "DATABASE_URL_FILE: cannot read")
}

// TestDevKeysAreAnInstallsOwn: a dev install without keys generates its own
// on first start and keeps them in its state directory, outside the
// repository: two fresh installs never share keys, one install keeps its
// keys across restarts (its sealed data stays readable), and processes
// starting at once agree on one pair.
func TestDevKeysAreAnInstallsOwn(t *testing.T) {
	t.Parallel()
	load := func(kv map[string]string) *config.Config {
		t.Helper()
		kv["DATABASE_URL"] = "postgres://x@y/z"
		c, err := config.Load(env(kv))
		require.NoError(t, err)
		require.True(t, c.GeneratedKeys)
		return c
	}
	a, b := t.TempDir(), t.TempDir()
	first, second := load(map[string]string{"BANGFU_STATE_DIR": a}), load(map[string]string{"BANGFU_STATE_DIR": b})
	require.False(t, first.SigningKey.Equal(second.SigningKey), "two installs share a signing key")
	require.NotEqual(t, first.DataKey, second.DataKey, "two installs share a data key")

	again := load(map[string]string{"BANGFU_STATE_DIR": a})
	require.True(t, first.SigningKey.Equal(again.SigningKey), "a restart keeps the signing key")
	require.Equal(t, first.DataKey, again.DataKey, "a restart keeps the data key")

	oldSeed := sha256.Sum256([]byte("bangfu development signing key - never use in production"))
	require.False(t, first.SigningKey.Equal(ed25519.NewKeyFromSeed(oldSeed[:])), "the key derived from the source is gone")
	oldData := sha256.Sum256([]byte("bangfu development data key - never use in production"))
	require.NotEqual(t, oldData[:], first.DataKey)

	file := filepath.Join(a, config.DevKeysFile)
	require.Equal(t, file, first.DevKeysPath)
	st, err := os.Stat(file)
	require.NoError(t, err)
	require.Equal(t, os.FileMode(0o600), st.Mode().Perm(), "only the owner reads the keys")

	// Defaults: $XDG_STATE_HOME/bangfu, else ~/.local/state/bangfu.
	xdg, home := t.TempDir(), t.TempDir()
	require.Equal(t, filepath.Join(xdg, "bangfu", config.DevKeysFile), load(map[string]string{"XDG_STATE_HOME": xdg, "HOME": home}).DevKeysPath)
	require.Equal(t, filepath.Join(home, ".local", "state", "bangfu", config.DevKeysFile), load(map[string]string{"HOME": home}).DevKeysPath)

	// Set keys win over generated ones.
	set := load(map[string]string{"BANGFU_STATE_DIR": a, "BANGFU_DATA_KEY": "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8="})
	require.True(t, first.SigningKey.Equal(set.SigningKey))
	require.NotEqual(t, first.DataKey, set.DataKey)

	// Processes starting together on a fresh install agree.
	fresh := t.TempDir()
	keys := make(chan []byte, 8)
	var wg sync.WaitGroup
	for range cap(keys) {
		wg.Go(func() {
			c, err := config.Load(env(map[string]string{"DATABASE_URL": "postgres://x@y/z", "BANGFU_STATE_DIR": fresh}))
			if assert.NoError(t, err) {
				keys <- c.DataKey
			}
		})
	}
	wg.Wait()
	close(keys)
	want := <-keys
	for k := range keys {
		require.Equal(t, want, k)
	}

	_, err = config.Load(env(map[string]string{"DATABASE_URL": "postgres://x@y/z"}))
	require.ErrorContains(t, err, "BANGFU_STATE_DIR: is required in dev")
}

// TestPublicURLAndLocalWebhooks: the links in reminders use
// BANGFU_PUBLIC_URL (in dev, localhost and BANGFU_ADDR's port by default);
// loopback webhook endpoints are a development convenience that prod
// refuses.
func TestPublicURLAndLocalWebhooks(t *testing.T) {
	t.Parallel()
	keys := map[string]string{"DATABASE_URL": "postgres://x@y/z", "BANGFU_ENV": "prod",
		"BANGFU_TOKEN_SIGNING_KEY": "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=",
		"BANGFU_DATA_KEY":          "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8="}
	with := func(kv map[string]string) map[string]string {
		out := map[string]string{}
		for k, v := range keys {
			out[k] = v
		}
		for k, v := range kv {
			out[k] = v
		}
		return out
	}
	c, err := config.Load(env(map[string]string{"DATABASE_URL": "postgres://x@y/z", "BANGFU_STATE_DIR": t.TempDir(), "BANGFU_ADDR": "127.0.0.1:9090"}))
	require.NoError(t, err)
	require.Equal(t, "http://localhost:9090", c.PublicURL)
	require.True(t, c.WebhookAllowLocal, "dev accepts the local test endpoints")

	c, err = config.Load(env(keys))
	require.NoError(t, err)
	require.Empty(t, c.PublicURL, "no guess in prod")
	require.False(t, c.WebhookAllowLocal)

	c, err = config.Load(env(with(map[string]string{"BANGFU_PUBLIC_URL": "https://bangfu.example.edu.cn/"})))
	require.NoError(t, err)
	require.Equal(t, "https://bangfu.example.edu.cn", c.PublicURL)

	_, err = config.Load(env(with(map[string]string{"BANGFU_PUBLIC_URL": "bangfu.example.edu.cn"})))
	require.EqualError(t, err, `BANGFU_PUBLIC_URL: must be the address users open bangfu at, like https://bangfu.example.edu.cn, got "bangfu.example.edu.cn"`)
	_, err = config.Load(env(with(map[string]string{"BANGFU_WEBHOOK_ALLOW_LOCAL": "true"})))
	require.EqualError(t, err, "BANGFU_WEBHOOK_ALLOW_LOCAL: must not be true when BANGFU_ENV=prod: webhooks go only to the real 企业微信 and 钉钉 endpoints")
	_, err = config.Load(env(with(map[string]string{"BANGFU_WEBHOOK_ALLOW_LOCAL": "maybe"})))
	require.EqualError(t, err, `BANGFU_WEBHOOK_ALLOW_LOCAL: must be true or false, got "maybe"`)
}
