// Package config reads the service's settings from environment variables,
// once, into a validated Config. Secrets may also come from a file named by
// the variable with a _FILE suffix.
package config

import (
	"crypto/ed25519"
	"crypto/x509"
	"encoding/base64"
	"encoding/pem"
	"errors"
	"fmt"
	"net"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/labstack/gommon/bytes"
)

// Env is the deployment kind.
type Env string

const (
	// EnvDev allows demo data and, when no keys are set, keys generated on
	// first start and kept in the state directory (BANGFU_STATE_DIR).
	EnvDev Env = "dev"
	// EnvProd refuses to start without real keys.
	EnvProd Env = "prod"
)

// Config is every setting of the process. It is built by Load and passed
// explicitly; nothing reads the environment after start-up.
type Config struct {
	Env         Env
	DatabaseURL string
	// DBMaxConns caps the connection pool of one process.
	DBMaxConns int32
	// DatabaseReadURL, when set, is a streaming replica of DatabaseURL on
	// which the read-heavy views (reports, exports, the supervisors'
	// review, province-wide lists) run, unless it is unreachable, more
	// than DatabaseReadMaxLag behind, or has not yet replayed the reader's
	// own last write (docs/decisions/0005).
	DatabaseReadURL    string
	DatabaseReadMaxLag time.Duration
	// ReportCache serves a report summary for up to report.CacheTTL after
	// counting it (the default); off, every read counts afresh — for
	// measuring the uncached cost (make bench), not for production.
	ReportCache bool
	// MemoryLimit is the Go runtime's soft memory limit for serve and
	// worker, in bytes (BANGFU_MEMORY_LIMIT, default 160M; 0 leaves the
	// runtime alone). GOMEMLIMIT, when set, wins.
	MemoryLimit int64

	Addr string
	// MetricsAddr, when set, serves /metrics on its own listener; when empty
	// /metrics is served on Addr to admins only.
	MetricsAddr    string
	TrustedProxies []*net.IPNet
	BodyLimit      string
	RequestTimeout time.Duration
	// ShutdownTimeout bounds how long in-flight requests and jobs may run
	// after SIGTERM before they are cancelled.
	ShutdownTimeout time.Duration

	LogLevel  string
	LogFormat string

	TokenIssuer     string
	TokenAudience   string
	AccessTokenTTL  time.Duration
	RefreshTokenTTL time.Duration
	// SigningKey signs new access tokens; VerifyKeys (which include the
	// signing key's public half) are all accepted, so keys can rotate.
	SigningKey ed25519.PrivateKey
	VerifyKeys []ed25519.PublicKey

	// DataKey encrypts sensitive fields at rest; PreviousDataKeys still
	// decrypt values written before a rotation.
	DataKey          []byte
	PreviousDataKeys [][]byte

	// JobWorkers is how many jobs one process works at once; JobTimeout
	// bounds one job (unless its worker says otherwise); a job still
	// "running" after JobRescueAfter (its process died) is retried.
	JobWorkers     int
	JobTimeout     time.Duration
	JobRescueAfter time.Duration

	// SMTPURL (smtp://user:pass@host:port) enables e-mail notifications.
	SMTPURL  string
	SMTPFrom string

	// PublicURL is the address users open bangfu at (https://bangfu.example.edu.cn,
	// no trailing slash): the links in reminders that leave the system.
	// Empty means reminders carry no link.
	PublicURL string
	// WebhookAllowLocal also accepts webhook URLs on this machine's loopback
	// addresses (http or https, any path), besides the real 企业微信 and 钉钉
	// endpoints: for tests' fake endpoints and the development receiver.
	// Never in prod.
	WebhookAllowLocal bool

	// GeneratedKeys is true when a dev install's own keys (generated on its
	// first start, kept in DevKeysPath) stand in for keys not set.
	GeneratedKeys bool
	DevKeysPath   string
}

// Lookup returns an environment variable's value and whether it is set.
type Lookup func(string) (string, bool)

// LoadFromEnv reads the process environment.
func LoadFromEnv() (*Config, error) { return Load(os.LookupEnv) }

// Load builds a Config from lookup. The error names the first bad variable
// and what is wrong with it, in one line.
func Load(lookup Lookup) (*Config, error) {
	p := parser{lookup: lookup}
	c := &Config{}

	switch env := Env(p.str("BANGFU_ENV", "dev")); env {
	case EnvDev, EnvProd:
		c.Env = env
	default:
		p.fail("BANGFU_ENV", "must be dev or prod, got %q", env)
	}
	c.DatabaseURL = p.secret("DATABASE_URL")
	if c.DatabaseURL == "" {
		p.fail("DATABASE_URL", "is required (for example postgres://bangfu:bangfu@127.0.0.1:5432/bangfu)")
	}
	c.DBMaxConns = int32(p.intRange("BANGFU_DB_MAX_CONNS", 20, 2, 1000))
	c.DatabaseReadURL = p.secret("BANGFU_DATABASE_READ_URL")
	if c.DatabaseReadURL != "" && c.DatabaseReadURL == c.DatabaseURL {
		p.fail("BANGFU_DATABASE_READ_URL", "must be a replica, not DATABASE_URL itself (leave it empty to read from the primary)")
	}
	c.DatabaseReadMaxLag = p.duration("BANGFU_DATABASE_READ_MAX_LAG", 10*time.Second, time.Second, 10*time.Minute)
	c.ReportCache = p.boolean("BANGFU_REPORT_CACHE", true)
	c.Addr = p.addr("BANGFU_ADDR", ":8080")
	c.MetricsAddr = p.addr("BANGFU_METRICS_ADDR", "")
	c.TrustedProxies = p.cidrs("BANGFU_TRUSTED_PROXIES")
	c.BodyLimit = p.size("BANGFU_BODY_LIMIT", "12M", 1<<10, 1<<30)
	c.MemoryLimit = p.memoryLimit("BANGFU_MEMORY_LIMIT", "160M")
	c.RequestTimeout = p.duration("BANGFU_REQUEST_TIMEOUT", 30*time.Second, time.Second, 10*time.Minute)
	c.ShutdownTimeout = p.duration("BANGFU_SHUTDOWN_TIMEOUT", 25*time.Second, time.Second, 10*time.Minute)

	c.LogLevel = p.oneOf("BANGFU_LOG_LEVEL", "info", "debug", "info", "warn", "error")
	defaultFormat := "text"
	if c.Env == EnvProd {
		defaultFormat = "json"
	}
	c.LogFormat = p.oneOf("BANGFU_LOG_FORMAT", defaultFormat, "json", "text")

	c.TokenIssuer = p.str("BANGFU_TOKEN_ISSUER", "bangfu")
	c.TokenAudience = p.str("BANGFU_TOKEN_AUDIENCE", "bangfu-api")
	c.AccessTokenTTL = p.duration("BANGFU_ACCESS_TOKEN_TTL", 15*time.Minute, 30*time.Second, 15*time.Minute)
	c.RefreshTokenTTL = p.duration("BANGFU_REFRESH_TOKEN_TTL", 30*24*time.Hour, time.Minute, 90*24*time.Hour)

	c.SigningKey = p.signingKey("BANGFU_TOKEN_SIGNING_KEY")
	c.VerifyKeys = p.publicKeys("BANGFU_TOKEN_VERIFY_KEYS")
	c.DataKey = p.dataKey("BANGFU_DATA_KEY")
	for i, s := range p.list("BANGFU_DATA_KEYS_PREVIOUS") {
		k, err := decodeDataKey(s)
		if err != nil {
			p.fail("BANGFU_DATA_KEYS_PREVIOUS", "entry %d: %v", i+1, err)
		}
		c.PreviousDataKeys = append(c.PreviousDataKeys, k)
	}

	c.JobWorkers = p.intRange("BANGFU_JOB_WORKERS", 10, 1, 1000)
	c.JobTimeout = p.duration("BANGFU_JOB_TIMEOUT", time.Minute, time.Second, time.Hour)
	c.JobRescueAfter = p.duration("BANGFU_JOB_RESCUE_AFTER", time.Hour, time.Second, 24*time.Hour)
	if c.JobRescueAfter < c.JobTimeout {
		p.fail("BANGFU_JOB_RESCUE_AFTER", "must be at least BANGFU_JOB_TIMEOUT (%s)", c.JobTimeout)
	}

	c.SMTPURL = p.secret("BANGFU_SMTP_URL")
	if c.SMTPURL != "" {
		if u, err := url.Parse(c.SMTPURL); err != nil || (u.Scheme != "smtp" && u.Scheme != "smtps") || u.Host == "" {
			p.fail("BANGFU_SMTP_URL", "must look like smtp://user:password@host:587")
		}
	}
	c.SMTPFrom = p.str("BANGFU_SMTP_FROM", "bangfu@localhost")

	c.PublicURL = p.publicURL("BANGFU_PUBLIC_URL", c)
	c.WebhookAllowLocal = p.boolean("BANGFU_WEBHOOK_ALLOW_LOCAL", c.Env == EnvDev)
	if c.WebhookAllowLocal && c.Env == EnvProd {
		p.fail("BANGFU_WEBHOOK_ALLOW_LOCAL", "must not be true when BANGFU_ENV=prod: webhooks go only to the real 企业微信 and 钉钉 endpoints")
	}

	if p.err != nil {
		return nil, p.err
	}

	if c.SigningKey == nil || c.DataKey == nil {
		if c.Env == EnvProd {
			missing := "BANGFU_TOKEN_SIGNING_KEY"
			if c.SigningKey != nil {
				missing = "BANGFU_DATA_KEY"
			}
			return nil, fmt.Errorf("%s: is required when BANGFU_ENV=prod (run `bangfu keys generate`)", missing)
		}
		// A dev install never uses keys from the source: it generates its
		// own on first start and keeps them in its state directory.
		dir := p.stateDir()
		if dir == "" {
			return nil, errors.New("BANGFU_STATE_DIR: is required in dev without BANGFU_TOKEN_SIGNING_KEY and BANGFU_DATA_KEY (nor HOME to default it): development keys are generated and kept there")
		}
		signing, data, err := devKeys(dir)
		if err != nil {
			return nil, fmt.Errorf("BANGFU_STATE_DIR: development keys in %s: %w", dir, err)
		}
		c.GeneratedKeys, c.DevKeysPath = true, filepath.Join(dir, DevKeysFile)
		if c.SigningKey == nil {
			c.SigningKey = signing
		}
		if c.DataKey == nil {
			c.DataKey = data
		}
	}
	c.VerifyKeys = append([]ed25519.PublicKey{c.SigningKey.Public().(ed25519.PublicKey)}, c.VerifyKeys...)
	return c, nil
}

type parser struct {
	lookup Lookup
	err    error
}

func (p *parser) fail(name, format string, args ...any) {
	if p.err == nil {
		p.err = fmt.Errorf("%s: %s", name, fmt.Sprintf(format, args...))
	}
}

func (p *parser) raw(name string) (string, bool) {
	v, ok := p.lookup(name)
	return strings.TrimSpace(v), ok && strings.TrimSpace(v) != ""
}

func (p *parser) str(name, def string) string {
	if v, ok := p.raw(name); ok {
		return v
	}
	return def
}

// secret reads name, or the file named by name_FILE. Setting both is an error.
func (p *parser) secret(name string) string {
	v, ok := p.raw(name)
	file, fileOK := p.raw(name + "_FILE")
	switch {
	case ok && fileOK:
		p.fail(name, "set either %s or %s_FILE, not both", name, name)
	case fileOK:
		b, err := os.ReadFile(file)
		if err != nil {
			p.fail(name+"_FILE", "cannot read %s: %v", file, errors.Unwrap(err))
			return ""
		}
		return strings.TrimSpace(string(b))
	}
	return v
}

func (p *parser) oneOf(name, def string, allowed ...string) string {
	v := p.str(name, def)
	for _, a := range allowed {
		if v == a {
			return v
		}
	}
	p.fail(name, "must be one of %s, got %q", strings.Join(allowed, ", "), v)
	return def
}

func (p *parser) boolean(name string, def bool) bool {
	v, ok := p.raw(name)
	if !ok {
		return def
	}
	b, err := strconv.ParseBool(v)
	if err != nil {
		p.fail(name, "must be true or false, got %q", v)
		return def
	}
	return b
}

// publicURL reads the address users open bangfu at: an absolute http(s)
// URL with no query, fragment or user information; a trailing slash is
// dropped. In dev it defaults to http://localhost and BANGFU_ADDR's port.
func (p *parser) publicURL(name string, c *Config) string {
	v, ok := p.raw(name)
	if !ok {
		if c.Env != EnvDev {
			return ""
		}
		_, port, err := net.SplitHostPort(c.Addr)
		if err != nil || port == "" {
			port = "8080"
		}
		return "http://localhost:" + port
	}
	u, err := url.Parse(v)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.User != nil ||
		u.RawQuery != "" || u.Fragment != "" || strings.ContainsAny(v, " \t\r\n") {
		p.fail(name, "must be the address users open bangfu at, like https://bangfu.example.edu.cn, got %q", v)
		return ""
	}
	return strings.TrimRight(v, "/")
}

func (p *parser) intRange(name string, def, lo, hi int) int {
	v, ok := p.raw(name)
	if !ok {
		return def
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < lo || n > hi {
		p.fail(name, "must be a whole number from %d to %d, got %q", lo, hi, v)
		return def
	}
	return n
}

// size reads a byte size as Echo's body limit takes it (12M, 512K, 1G)
// and returns it in that form, refusing what Echo would panic on.
func (p *parser) size(name, def string, lo, hi int64) string {
	v := p.str(name, def)
	n, err := bytes.Parse(v)
	if err != nil || n < lo || n > hi {
		p.fail(name, "must be a size from 1K to 1G (like 12M or 512K), got %q", v)
		return def
	}
	return v
}

// memoryLimit reads a byte size from 64M to 1T (like 160M or 2G), or 0 for
// no limit.
func (p *parser) memoryLimit(name, def string) int64 {
	v := p.str(name, def)
	if v == "0" {
		return 0
	}
	n, err := bytes.Parse(v)
	if err != nil || n < 64_000_000 || n > 1_000_000_000_000 {
		p.fail(name, "must be a size from 64M to 1T (like 160M or 2G), or 0 for none, got %q", v)
		return 0
	}
	return n
}

func (p *parser) duration(name string, def, lo, hi time.Duration) time.Duration {
	v, ok := p.raw(name)
	if !ok {
		return def
	}
	d, err := time.ParseDuration(v)
	if err != nil || d < lo || d > hi {
		p.fail(name, "must be a duration from %s to %s (like 30s or 15m), got %q", lo, hi, v)
		return def
	}
	return d
}

func (p *parser) addr(name, def string) string {
	v := p.str(name, def)
	if v == "" {
		return v
	}
	if _, port, err := net.SplitHostPort(v); err != nil || port == "" {
		p.fail(name, "must be host:port or :port, got %q", v)
	}
	return v
}

func (p *parser) list(name string) []string {
	return strings.FieldsFunc(p.secret(name), func(r rune) bool { return r == ',' || r == ' ' || r == '\n' })
}

func (p *parser) cidrs(name string) []*net.IPNet {
	var out []*net.IPNet
	for _, s := range p.list(name) {
		cidr := s
		if !strings.Contains(s, "/") {
			if ip := net.ParseIP(s); ip != nil && ip.To4() != nil {
				cidr += "/32"
			} else {
				cidr += "/128"
			}
		}
		_, n, err := net.ParseCIDR(cidr)
		if err != nil {
			p.fail(name, "%q is not an IP address or CIDR range", s)
			continue
		}
		out = append(out, n)
	}
	return out
}

func (p *parser) signingKey(name string) ed25519.PrivateKey {
	v := p.secret(name)
	if v == "" {
		return nil
	}
	k, err := ParseSigningKey(v)
	if err != nil {
		p.fail(name, "%v", err)
	}
	return k
}

func (p *parser) publicKeys(name string) []ed25519.PublicKey {
	v := p.secret(name)
	var keys []ed25519.PublicKey
	rest := []byte(v)
	for {
		var block *pem.Block
		block, rest = pem.Decode(rest)
		if block == nil {
			break
		}
		pub, err := x509.ParsePKIXPublicKey(block.Bytes)
		k, ok := pub.(ed25519.PublicKey)
		if err != nil || !ok {
			p.fail(name, "holds a PEM block that is not an Ed25519 public key")
			return nil
		}
		keys = append(keys, k)
	}
	if strings.TrimSpace(string(rest)) != "" {
		p.fail(name, "must be a list of PEM-encoded Ed25519 public keys")
	}
	return keys
}

func (p *parser) dataKey(name string) []byte {
	v := p.secret(name)
	if v == "" {
		return nil
	}
	k, err := decodeDataKey(v)
	if err != nil {
		p.fail(name, "%v", err)
	}
	return k
}

func decodeDataKey(s string) ([]byte, error) {
	k, err := base64.StdEncoding.DecodeString(s)
	if err != nil || len(k) != 32 {
		return nil, errors.New("must be 32 random bytes in base64 (run `bangfu keys generate`)")
	}
	return k, nil
}

// ParseSigningKey accepts an Ed25519 private key as PKCS#8 PEM or as a
// base64 32-byte seed.
func ParseSigningKey(s string) (ed25519.PrivateKey, error) {
	if block, _ := pem.Decode([]byte(s)); block != nil {
		k, err := x509.ParsePKCS8PrivateKey(block.Bytes)
		if pk, ok := k.(ed25519.PrivateKey); err == nil && ok {
			return pk, nil
		}
		return nil, errors.New("is a PEM block but not a PKCS#8 Ed25519 private key")
	}
	seed, err := base64.StdEncoding.DecodeString(s)
	if err != nil || len(seed) != ed25519.SeedSize {
		return nil, errors.New("must be a PKCS#8 PEM Ed25519 private key or a base64 32-byte seed")
	}
	return ed25519.NewKeyFromSeed(seed), nil
}

// PublicKeyPEM encodes an Ed25519 public key as PKIX PEM, the format
// BANGFU_TOKEN_VERIFY_KEYS reads.
func PublicKeyPEM(k ed25519.PublicKey) (string, error) {
	der, err := x509.MarshalPKIXPublicKey(k)
	if err != nil {
		return "", err
	}
	return string(pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der})), nil
}
