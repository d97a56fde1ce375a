package auth

import (
	"crypto/ed25519"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"strconv"
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
		jwt.WithLeeway(5*time.Second),
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
func (t *Tokens) Verify(token string) (bangfu.Actor, error) {
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
	return bangfu.Actor{
		UserID: id, Username: c.Username, Role: c.Role,
		SchoolID: c.SchoolID, DepartmentID: c.DepartmentID, StudentID: c.StudentID, BaseID: c.BaseID,
	}, nil
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
