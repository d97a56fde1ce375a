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
// its handler. first: a token's first request (parse, check the EdDSA
// signature and the claims); again: every later request with the same
// token, answered from memory.
func BenchmarkVerifyToken(b *testing.B) {
	school := int64(7)
	a := bangfu.Actor{UserID: 42, Role: bangfu.RoleCounselor, SchoolID: &school}
	b.Run("first", func(b *testing.B) {
		tokens := benchTokens()
		toks := make([]string, 1000)
		for i := range toks {
			var err error
			if toks[i], err = tokens.Issue(a); err != nil {
				b.Fatal(err)
			}
		}
		b.ReportAllocs()
		i := 0
		for b.Loop() {
			if i == len(toks) {
				b.StopTimer()
				tokens, i = benchTokens(), 0 // forget them: each verification is a first one
				for j := range toks {
					var err error
					if toks[j], err = tokens.Issue(a); err != nil {
						b.Fatal(err)
					}
				}
				b.StartTimer()
			}
			if _, err := tokens.Verify(toks[i]); err != nil {
				b.Fatal(err)
			}
			i++
		}
	})
	b.Run("again", func(b *testing.B) {
		tokens := benchTokens()
		tok, err := tokens.Issue(a)
		if err != nil {
			b.Fatal(err)
		}
		b.ReportAllocs()
		for b.Loop() {
			if _, err := tokens.Verify(tok); err != nil {
				b.Fatal(err)
			}
		}
	})
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
