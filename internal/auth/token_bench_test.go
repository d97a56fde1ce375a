package auth_test

import (
	"crypto/ed25519"
	"crypto/rand"
	"testing"
	"time"

	"github.com/bangfu/bangfu"
	"github.com/bangfu/bangfu/internal/auth"
)

func benchTokens() *auth.Tokens {
	_, k, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		panic(err)
	}
	return auth.NewTokens("bangfu", "bangfu-api", 15*time.Minute, k, []ed25519.PublicKey{k.Public().(ed25519.PublicKey)}, bangfu.SystemClock{})
}

// BenchmarkVerifyToken is the work every authenticated request does before
// its handler: parse, check the EdDSA signature and the claims.
func BenchmarkVerifyToken(b *testing.B) {
	tokens := benchTokens()
	school := int64(7)
	tok, err := tokens.Issue(bangfu.Actor{UserID: 42, Role: bangfu.RoleCounselor, SchoolID: &school})
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := tokens.Verify(tok); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkIssueToken(b *testing.B) {
	tokens := benchTokens()
	school := int64(7)
	a := bangfu.Actor{UserID: 42, Role: bangfu.RoleCounselor, SchoolID: &school}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := tokens.Issue(a); err != nil {
			b.Fatal(err)
		}
	}
}
