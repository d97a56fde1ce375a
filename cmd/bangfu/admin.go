package main

import (
	"bufio"
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"strings"

	"github.com/bangfu/bangfu"
	"github.com/bangfu/bangfu/internal/app"
	"github.com/bangfu/bangfu/internal/config"
	"github.com/bangfu/bangfu/internal/demo"
	"github.com/bangfu/bangfu/internal/directory"
)

func (p *program) user(ctx context.Context, args []string) error {
	if len(args) == 0 || args[0] != "create" {
		fmt.Fprintln(p.stderr, "Usage: bangfu user create --username U --role R [--school ID] [--department ID] [--base ID] --password-stdin")
		return errors.New("unknown user command; try `bangfu user create --help`")
	}
	fs := p.flags("user create --username U --role R [--school ID] --password-stdin",
		"Creates a user. The password is read from the first line of standard input,\nso that it never appears in the process list or shell history.")
	username := fs.String("username", "", "login name: 3-64 lowercase letters, digits, '.', '_' or '-'")
	role := fs.String("role", "", "student, counselor, supervisor, province, admin or base")
	name := fs.String("name", "", "display name (defaults to the username)")
	school := fs.Int64("school", 0, "school ID (required for student, counselor and supervisor)")
	dept := fs.Int64("department", 0, "department ID within the school")
	base := fs.Int64("base", 0, "training base ID (required for base)")
	fromStdin := fs.Bool("password-stdin", false, "read the password from standard input (required)")
	if err := fs.Parse(args[1:]); err != nil {
		return err
	}
	if !*fromStdin {
		return errors.New("--password-stdin is required: pass the password on standard input")
	}
	line, err := bufio.NewReader(p.stdin).ReadString('\n')
	if err != nil && line == "" {
		return errors.New("no password on standard input")
	}
	in := directory.UserInput{Username: *username, DisplayName: *name, Role: bangfu.Role(*role), Password: strings.TrimRight(line, "\r\n")}
	if *school != 0 {
		in.SchoolID = school
	}
	if *dept != 0 {
		in.DepartmentID = dept
	}
	if *base != 0 {
		in.BaseID = base
	}
	cfg, log, err := p.config()
	if err != nil {
		return err
	}
	a, err := app.New(ctx, cfg, log, p.options(false))
	if err != nil {
		return err
	}
	defer a.Close()
	u, err := a.Directory.CreateUser(ctx, bangfu.Actor{}, in) // the system: an operator at the command line
	if err != nil {
		return err
	}
	fmt.Fprintf(p.stdout, "created user %s (id %d, role %s)\n", u.Username, u.ID, u.Role)
	return nil
}

func (p *program) seed(ctx context.Context, args []string) error {
	if len(args) > 0 && args[0] == "synthetic" {
		// The generator is bench tooling, not part of the service
		// (docs/decisions/0002-bench-tooling-outside-the-service.md).
		return errors.New("seed synthetic is not part of bangfu: run `bangfu-bench seed` (go build -o bin/bangfu-bench ./cmd/bangfu-bench)")
	}
	if len(args) == 0 || args[0] != "demo" {
		fmt.Fprintln(p.stderr, "Usage: bangfu seed demo")
		return errors.New("unknown seed command; try `bangfu seed demo --help`")
	}
	fs := p.flags("seed demo", "Loads the demo school, department, graduates and one user of every role,\nand prints their logins. Idempotent. Refused when BANGFU_ENV=prod.")
	if err := fs.Parse(args[1:]); err != nil {
		return err
	}
	cfg, log, err := p.config()
	if err != nil {
		return err
	}
	if cfg.Env == config.EnvProd {
		return errors.New("seed demo: refused when BANGFU_ENV=prod (demo passwords are public)")
	}
	a, err := app.New(ctx, cfg, log, p.options(false))
	if err != nil {
		return err
	}
	defer a.Close()
	logins, err := demo.Seed(ctx, a)
	if err != nil {
		return err
	}
	fmt.Fprintln(p.stdout, "Demo logins (username / password):")
	for _, l := range logins {
		fmt.Fprintf(p.stdout, "  %-11s %-20s %s\n", l.Role, l.Username, l.Password)
	}
	return nil
}

func (p *program) keys(_ context.Context, args []string) error {
	if len(args) == 0 || args[0] != "generate" {
		return errors.New("usage: bangfu keys generate")
	}
	fs := p.flags("keys generate", "Prints a new token-signing key, its public key (for BANGFU_TOKEN_VERIFY_KEYS\nduring rotation) and a new data-encryption key, as environment lines.")
	if err := fs.Parse(args[1:]); err != nil {
		return err
	}
	seed := make([]byte, ed25519.SeedSize)
	data := make([]byte, 32)
	if _, err := rand.Read(seed); err != nil {
		return err
	}
	if _, err := rand.Read(data); err != nil {
		return err
	}
	priv := ed25519.NewKeyFromSeed(seed)
	pub, err := config.PublicKeyPEM(priv.Public().(ed25519.PublicKey))
	if err != nil {
		return err
	}
	fmt.Fprintf(p.stdout, "BANGFU_TOKEN_SIGNING_KEY=%s\n", base64.StdEncoding.EncodeToString(seed))
	fmt.Fprintf(p.stdout, "BANGFU_DATA_KEY=%s\n", base64.StdEncoding.EncodeToString(data))
	fmt.Fprintf(p.stdout, "# public key, for BANGFU_TOKEN_VERIFY_KEYS once this key is retired:\n%s", pub)
	return nil
}
