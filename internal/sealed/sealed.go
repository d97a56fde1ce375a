// Package sealed encrypts sensitive fields (身份证号, disability details,
// certificate numbers) for storage, and computes keyed hashes of them for
// exact-match lookup without decryption.
package sealed

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/hkdf"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"errors"
	"fmt"
)

// Box seals with the primary key and opens with any known key. Each
// ciphertext names its key by an 8-byte fingerprint, so keys can rotate.
type Box struct {
	primary keyEntry
	keys    map[[8]byte]keyEntry
}

type keyEntry struct {
	id     [8]byte
	aead   cipher.AEAD
	lookup []byte
}

const version = 1

// New returns a Box that seals with primary and also opens values sealed
// with any of previous. Each key must be 32 bytes.
func New(primary []byte, previous ...[]byte) (*Box, error) {
	b := &Box{keys: map[[8]byte]keyEntry{}}
	for i, k := range append([][]byte{primary}, previous...) {
		e, err := newKey(k)
		if err != nil {
			return nil, err
		}
		if i == 0 {
			b.primary = e
		}
		b.keys[e.id] = e
	}
	return b, nil
}

func newKey(k []byte) (keyEntry, error) {
	if len(k) != 32 {
		return keyEntry{}, errors.New("sealed: key must be 32 bytes")
	}
	enc, err := hkdf.Key(sha256.New, k, nil, "bangfu field encryption v1", 32)
	if err != nil {
		return keyEntry{}, err
	}
	lookup, err := hkdf.Key(sha256.New, k, nil, "bangfu field lookup v1", 32)
	if err != nil {
		return keyEntry{}, err
	}
	idKey, err := hkdf.Key(sha256.New, k, nil, "bangfu key id v1", 8)
	if err != nil {
		return keyEntry{}, err
	}
	block, err := aes.NewCipher(enc)
	if err != nil {
		return keyEntry{}, err
	}
	aead, err := cipher.NewGCM(block)
	if err != nil {
		return keyEntry{}, err
	}
	var id [8]byte
	copy(id[:], idKey)
	return keyEntry{id: id, aead: aead, lookup: lookup}, nil
}

// Seal encrypts plaintext for the column named field (bound in as
// associated data, so a value cannot be moved to another column).
func (b *Box) Seal(field, plaintext string) []byte {
	nonce := make([]byte, b.primary.aead.NonceSize())
	if _, err := rand.Read(nonce); err != nil {
		panic("sealed: no randomness: " + err.Error())
	}
	out := make([]byte, 0, 1+8+len(nonce)+len(plaintext)+b.primary.aead.Overhead())
	out = append(out, version)
	out = append(out, b.primary.id[:]...)
	out = append(out, nonce...)
	return b.primary.aead.Seal(out, nonce, []byte(plaintext), []byte(field))
}

// ErrUnknownKey means the value was sealed with a key this Box lacks.
var ErrUnknownKey = errors.New("sealed: value was sealed with an unknown key")

// Open decrypts a value sealed for field.
func (b *Box) Open(field string, sealed []byte) (string, error) {
	if len(sealed) == 0 {
		return "", nil
	}
	if len(sealed) < 1+8+12 || sealed[0] != version {
		return "", errors.New("sealed: malformed value")
	}
	var id [8]byte
	copy(id[:], sealed[1:9])
	k, ok := b.keys[id]
	if !ok {
		return "", ErrUnknownKey
	}
	ns := k.aead.NonceSize()
	pt, err := k.aead.Open(nil, sealed[9:9+ns], sealed[9+ns:], []byte(field))
	if err != nil {
		return "", fmt.Errorf("sealed: %s does not decrypt: %w", field, err)
	}
	return string(pt), nil
}

// Hash returns the keyed hash of value for field under the primary key.
func (b *Box) Hash(field, value string) []byte {
	return hash(b.primary.lookup, field, value)
}

// Hashes returns the keyed hashes of value under every known key, primary
// first: look a value up with `hash = ANY(...)` to find it whichever key
// hashed it.
func (b *Box) Hashes(field, value string) [][]byte {
	out := [][]byte{b.Hash(field, value)}
	for id, k := range b.keys {
		if id != b.primary.id {
			out = append(out, hash(k.lookup, field, value))
		}
	}
	return out
}

func hash(key []byte, field, value string) []byte {
	m := hmac.New(sha256.New, key)
	m.Write([]byte(field))
	m.Write([]byte{0})
	m.Write([]byte(value))
	return m.Sum(nil)
}
