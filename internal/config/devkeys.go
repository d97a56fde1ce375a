package config

import (
	"crypto/ed25519"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
)

// DevKeysFile is the file, in the state directory, that holds a development
// install's own keys, in the form `bangfu keys generate` prints.
const DevKeysFile = "dev-keys.env"

// stateDir is where a dev install keeps its generated keys: BANGFU_STATE_DIR,
// else $XDG_STATE_HOME/bangfu, else ~/.local/state/bangfu — never the
// repository, whose files anyone can read.
func (p *parser) stateDir() string {
	if v, ok := p.raw("BANGFU_STATE_DIR"); ok {
		return v
	}
	if v, ok := p.raw("XDG_STATE_HOME"); ok && filepath.IsAbs(v) {
		return filepath.Join(v, "bangfu")
	}
	if v, ok := p.raw("HOME"); ok {
		return filepath.Join(v, ".local", "state", "bangfu")
	}
	return ""
}

// devKeys returns the signing and data keys of the dev install whose state
// directory is dir, generating them on first use. Processes that start at
// once (migrate, serve) agree on one pair: the file appears whole, once.
func devKeys(dir string) (ed25519.PrivateKey, []byte, error) {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, nil, err
	}
	path := filepath.Join(dir, DevKeysFile)
	if b, err := os.ReadFile(path); err == nil {
		return parseDevKeys(path, b)
	} else if !errors.Is(err, fs.ErrNotExist) {
		return nil, nil, err
	}
	seed, data := make([]byte, ed25519.SeedSize), make([]byte, 32)
	if _, err := rand.Read(seed); err != nil {
		return nil, nil, err
	}
	if _, err := rand.Read(data); err != nil {
		return nil, nil, err
	}
	content := fmt.Sprintf("# bangfu development keys, generated on first start; never use them in production.\n"+
		"# Deleting this file makes data sealed with BANGFU_DATA_KEY unreadable.\n"+
		"BANGFU_TOKEN_SIGNING_KEY=%s\nBANGFU_DATA_KEY=%s\n",
		base64.StdEncoding.EncodeToString(seed), base64.StdEncoding.EncodeToString(data))
	tmp, err := os.CreateTemp(dir, ".dev-keys-*")
	if err != nil {
		return nil, nil, err
	}
	defer os.Remove(tmp.Name())
	if _, err := tmp.WriteString(content); err != nil {
		tmp.Close()
		return nil, nil, err
	}
	if err := tmp.Chmod(0o600); err != nil {
		tmp.Close()
		return nil, nil, err
	}
	if err := tmp.Close(); err != nil {
		return nil, nil, err
	}
	// Link, unlike rename, fails when another process got there first:
	// then its keys are the install's.
	if err := os.Link(tmp.Name(), path); err != nil && !errors.Is(err, fs.ErrExist) {
		return nil, nil, err
	}
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, nil, err
	}
	return parseDevKeys(path, b)
}

func parseDevKeys(path string, b []byte) (ed25519.PrivateKey, []byte, error) {
	var signing ed25519.PrivateKey
	var data []byte
	for _, line := range strings.Split(string(b), "\n") {
		k, v, ok := strings.Cut(strings.TrimSpace(line), "=")
		if !ok || strings.HasPrefix(k, "#") {
			continue
		}
		var err error
		switch k {
		case "BANGFU_TOKEN_SIGNING_KEY":
			signing, err = ParseSigningKey(v)
		case "BANGFU_DATA_KEY":
			data, err = decodeDataKey(v)
		}
		if err != nil {
			return nil, nil, fmt.Errorf("%s: %s %v", path, k, err)
		}
	}
	if signing == nil || data == nil {
		return nil, nil, fmt.Errorf("%s: must hold BANGFU_TOKEN_SIGNING_KEY and BANGFU_DATA_KEY; delete it to generate new ones", path)
	}
	return signing, data, nil
}
