// Command bangfu is the whole service in one binary: the HTTP server, the
// job workers, migrations and administrative tasks. Run `bangfu --help`.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"os/signal"
	"strings"
	"syscall"

	"github.com/bangfu/bangfu/internal/config"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
	defer stop()
	p := &program{stdin: os.Stdin, stdout: os.Stdout, stderr: os.Stderr, lookup: os.LookupEnv, ownsProcess: true}
	if err := p.run(ctx, os.Args[1:]); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			os.Exit(0)
		}
		fmt.Fprintln(os.Stderr, "bangfu:", err)
		os.Exit(1)
	}
}

// program is one invocation of the command, with its environment passed in
// so that tests can run it in-process.
type program struct {
	stdin          io.Reader
	stdout, stderr io.Writer
	lookup         config.Lookup
	// ready, when set, receives the HTTP listener's address once serving.
	ready func(net.Addr)
	// hooks lets tests adjust the wiring (clock, password cost).
	hooks *testHooks
	// ownsProcess is true for the real command, false when a test runs it
	// in-process: only the former sets process-wide runtime settings.
	ownsProcess bool
}

type command struct {
	name, summary string
	run           func(p *program, ctx context.Context, args []string) error
}

func commands() []command {
	return []command{
		{"serve", "serve the HTTP API and work background jobs", (*program).serve},
		{"worker", "work background jobs only (scale out beside serve --no-workers)", (*program).worker},
		{"migrate", "bring the database schema (bangfu's and River's) up to date", (*program).migrate},
		{"user", "manage users: `user create`", (*program).user},
		{"seed", "load data: `seed demo`", (*program).seed},
		{"keys", "print new secret keys: `keys generate`", (*program).keys},
	}
}

func (p *program) usage() {
	fmt.Fprintln(p.stderr, `bangfu — case management for disadvantaged graduates (帮扶).

Usage: bangfu <command> [flags]

Commands:`)
	for _, c := range commands() {
		fmt.Fprintf(p.stderr, "  %-8s %s\n", c.name, c.summary)
	}
	fmt.Fprintln(p.stderr, `
Configuration comes from environment variables (see README.md); run
'bangfu <command> --help' for a command's flags.`)
}

func (p *program) run(ctx context.Context, args []string) error {
	if len(args) == 0 || args[0] == "-h" || args[0] == "--help" || args[0] == "help" {
		p.usage()
		if len(args) == 0 {
			return errors.New("no command given")
		}
		return flag.ErrHelp
	}
	for _, c := range commands() {
		if c.name == args[0] {
			return c.run(p, ctx, args[1:])
		}
	}
	p.usage()
	return fmt.Errorf("unknown command %q", args[0])
}

// flags returns a FlagSet for a command whose help prints summary.
func (p *program) flags(name, summary string) *flag.FlagSet {
	fs := flag.NewFlagSet("bangfu "+name, flag.ContinueOnError)
	fs.SetOutput(p.stderr)
	fs.Usage = func() {
		fmt.Fprintf(p.stderr, "Usage: bangfu %s\n\n%s\n", name, summary)
		var hasFlags bool
		fs.VisitAll(func(*flag.Flag) { hasFlags = true })
		if hasFlags {
			fmt.Fprintln(p.stderr, "\nFlags:")
			fs.PrintDefaults()
		}
	}
	return fs
}

func (p *program) config() (*config.Config, *slog.Logger, error) {
	cfg, err := config.Load(p.lookup)
	if err != nil {
		return nil, nil, err
	}
	var level slog.Level
	_ = level.UnmarshalText([]byte(strings.ToUpper(cfg.LogLevel)))
	opts := &slog.HandlerOptions{Level: level}
	var h slog.Handler = slog.NewTextHandler(p.stderr, opts)
	if cfg.LogFormat == "json" {
		h = slog.NewJSONHandler(p.stderr, opts)
	}
	log := slog.New(h)
	if cfg.GeneratedKeys {
		log.Warn("using this development install's own keys: set BANGFU_TOKEN_SIGNING_KEY and BANGFU_DATA_KEY for real use", "file", cfg.DevKeysPath)
	}
	return cfg, log, nil
}
