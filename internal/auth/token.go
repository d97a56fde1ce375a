package auth

import (
	"crypto/ed25519"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"strconv"
	"sync"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/bangfu/bangfu"
)

// Claims are the access token's claims. Beyond the registered ones they
// carry what authorization needs, so that verifying a request needs no
// database read.
type Claims struct {
	jwt.RegisteredClaims
	Role         bangfu.Role `json:"role"`
	Username     string      `json:"name,omitempty"`
	SchoolID     *int64      `json:"sch,omitempty"`
	DepartmentID *int64      `json:"dep,omitempty"`
	StudentID    *int64      `json:"stu,omitempty"`
	BaseID       *int64      `json:"bas,omitempty"`
}

// KeyID names a public key: the base64url of the first 12 bytes of its SHA-256.
func KeyID(pub ed25519.PublicKey) string {
	sum := sha256.Sum256(pub)
	return base64.RawURLEncoding.EncodeToString(sum[:12])
}

// Tokens signs and verifies access tokens (EdDSA). Several verification keys
// may be active at once so that the signing key can rotate.
type Tokens struct {
	issuer, audience string
	ttl              time.Duration
	signing          ed25519.PrivateKey
	signingKID       string
	verify           map[string]ed25519.PublicKey
	clock            bangfu.Clock
	parser           *jwt.Parser
	verified         verifiedCache
}

// NewTokens returns a Tokens that signs with signing and accepts any of verify.
func NewTokens(issuer, audience string, ttl time.Duration, signing ed25519.PrivateKey, verify []ed25519.PublicKey, clock bangfu.Clock) *Tokens {
	t := &Tokens{
		issuer: issuer, audience: audience, ttl: ttl,
		signing: signing, signingKID: KeyID(signing.Public().(ed25519.PublicKey)),
		verify: map[string]ed25519.PublicKey{},
		clock:  clock,
	}
	for _, k := range verify {
		t.verify[KeyID(k)] = k
	}
	t.parser = jwt.NewParser(
		jwt.WithValidMethods([]string{jwt.SigningMethodEdDSA.Alg()}),
		jwt.WithIssuer(issuer),
		jwt.WithAudience(audience),
		jwt.WithExpirationRequired(),
		jwt.WithIssuedAt(),
		jwt.WithTimeFunc(func() time.Time { return clock.Now() }),
		jwt.WithLeeway(tokenLeeway),
	)
	return t
}

// TTL is the lifetime of the access tokens Issue signs.
func (t *Tokens) TTL() time.Duration { return t.ttl }

// Issue signs an access token for a.
func (t *Tokens) Issue(a bangfu.Actor) (string, error) {
	now := t.clock.Now()
	jti := make([]byte, 12)
	if _, err := rand.Read(jti); err != nil {
		return "", err
	}
	c := Claims{
		RegisteredClaims: jwt.RegisteredClaims{
			Issuer:    t.issuer,
			Subject:   strconv.FormatInt(a.UserID, 10),
			Audience:  jwt.ClaimStrings{t.audience},
			ExpiresAt: jwt.NewNumericDate(now.Add(t.ttl)),
			IssuedAt:  jwt.NewNumericDate(now),
			ID:        hex.EncodeToString(jti),
		},
		Role: a.Role, Username: a.Username,
		SchoolID: a.SchoolID, DepartmentID: a.DepartmentID, StudentID: a.StudentID, BaseID: a.BaseID,
	}
	tok := jwt.NewWithClaims(jwt.SigningMethodEdDSA, c)
	tok.Header["kid"] = t.signingKID
	return tok.SignedString(t.signing)
}

var errUnauthenticated = &bangfu.Error{Code: bangfu.EUNAUTHENTICATED, Message: "The access token is missing, invalid or expired."}

// Verify checks token's algorithm, key, signature, issuer, audience and
// expiry and returns the actor it names. Any failure is unauthenticated.
//
// A token that passed is remembered (by its SHA-256) until it expires, so
// that the next requests carrying it cost a hash and a map look-up rather
// than an EdDSA verification (~90 µs, the largest part of an
// authenticated request's own work): a client sends the same token for up
// to its TTL. Nothing else decides a token's validity — access tokens are
// not revoked one by one, they expire — so the answer is the same.
func (t *Tokens) Verify(token string) (bangfu.Actor, error) {
	key := sha256.Sum256([]byte(token))
	now := t.clock.Now()
	if a, ok := t.verified.get(key, now); ok {
		return a, nil
	}
	var c Claims
	_, err := t.parser.ParseWithClaims(token, &c, func(tok *jwt.Token) (any, error) {
		kid, _ := tok.Header["kid"].(string)
		k, ok := t.verify[kid]
		if !ok {
			return nil, fmt.Errorf("unknown key id %q", kid)
		}
		return k, nil
	})
	if err != nil {
		return bangfu.Actor{}, errUnauthenticated
	}
	id, err := strconv.ParseInt(c.Subject, 10, 64)
	if err != nil || !c.Role.Valid() || (c.Role == bangfu.RoleBase) != (c.BaseID != nil) {
		return bangfu.Actor{}, errUnauthenticated
	}
	a := bangfu.Actor{
		UserID: id, Username: c.Username, Role: c.Role,
		SchoolID: c.SchoolID, DepartmentID: c.DepartmentID, StudentID: c.StudentID, BaseID: c.BaseID,
	}
	// The parser accepted it up to the expiry plus its leeway.
	t.verified.put(key, a, c.ExpiresAt.Add(tokenLeeway), now)
	return copyActor(a), nil
}

// tokenLeeway is the clock skew Verify tolerates.
const tokenLeeway = 5 * time.Second

// maxVerified bounds the tokens remembered at once: about 100 bytes each.
const maxVerified = 20_000

// verifiedCache remembers the actors of verified tokens until they expire.
type verifiedCache struct {
	mu sync.Mutex
	m  map[[sha256.Size]byte]verifiedToken
}

type verifiedToken struct {
	actor   bangfu.Actor
	expires time.Time
}

func (c *verifiedCache) get(key [sha256.Size]byte, now time.Time) (bangfu.Actor, bool) {
	c.mu.Lock()
	v, ok := c.m[key]
	c.mu.Unlock()
	if !ok || !now.Before(v.expires) {
		return bangfu.Actor{}, false
	}
	return copyActor(v.actor), true
}

// put remembers a until expires. When full, it first forgets the expired
// tokens, and if that is not enough, all of them (they will be verified
// again): memory stays bounded whatever the traffic.
func (c *verifiedCache) put(key [sha256.Size]byte, a bangfu.Actor, expires, now time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.m == nil {
		c.m = map[[sha256.Size]byte]verifiedToken{}
	}
	if len(c.m) >= maxVerified {
		for k, v := range c.m {
			if !now.Before(v.expires) {
				delete(c.m, k)
			}
		}
		if len(c.m) >= maxVerified {
			clear(c.m)
		}
	}
	c.m[key] = verifiedToken{copyActor(a), expires}
}

// copyActor returns a with its own copies of the ids it points to, so that
// no two requests share them.
func copyActor(a bangfu.Actor) bangfu.Actor {
	dup := func(p *int64) *int64 {
		if p == nil {
			return nil
		}
		v := *p
		return &v
	}
	a.SchoolID, a.DepartmentID, a.StudentID, a.BaseID = dup(a.SchoolID), dup(a.DepartmentID), dup(a.StudentID), dup(a.BaseID)
	return a
}

// JWK is one public key in a JSON Web Key Set.
type JWK struct {
	Kty string `json:"kty"`
	Crv string `json:"crv"`
	X   string `json:"x"`
	Kid string `json:"kid"`
	Alg string `json:"alg"`
	Use string `json:"use"`
}

// JWKS returns the verification keys as a JSON Web Key Set.
func (t *Tokens) JWKS() map[string][]JWK {
	keys := make([]JWK, 0, len(t.verify))
	// The signing key first, so clients that take the first key take it.
	add := func(kid string, k ed25519.PublicKey) {
		keys = append(keys, JWK{Kty: "OKP", Crv: "Ed25519", X: base64.RawURLEncoding.EncodeToString(k), Kid: kid, Alg: "EdDSA", Use: "sig"})
	}
	add(t.signingKID, t.verify[t.signingKID])
	for kid, k := range t.verify {
		if kid != t.signingKID {
			add(kid, k)
		}
	}
	return map[string][]JWK{"keys": keys}
}

// newRefreshToken returns a random refresh token and its stored hash.
func newRefreshToken() (token string, hash []byte, err error) {
	b := make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		return "", nil, err
	}
	token = base64.RawURLEncoding.EncodeToString(b)
	return token, hashRefreshToken(token), nil
}

func hashRefreshToken(token string) []byte {
	sum := sha256.Sum256([]byte(token))
	return sum[:]
}
