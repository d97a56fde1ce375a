package main

import (
	"context"
	"fmt"
	"log/slog"
	"net"
	"os"
	"runtime/debug"

	"github.com/bangfu/bangfu"
	"github.com/bangfu/bangfu/internal/app"
	"github.com/bangfu/bangfu/internal/config"
	"github.com/bangfu/bangfu/internal/password"
)

// testHooks adjust the wiring in end-to-end tests.
type testHooks struct {
	clock          bangfu.Clock
	passwordParams *password.Params
}

func (p *program) options(workers bool) app.Options {
	o := app.Options{Workers: workers}
	if p.hooks != nil {
		o.Clock, o.PasswordParams = p.hooks.clock, p.hooks.passwordParams
	}
	return o
}

func (p *program) serve(ctx context.Context, args []string) error {
	fs := p.flags("serve [--no-workers]", "Serves the HTTP API on BANGFU_ADDR and, unless --no-workers, works\nbackground jobs in the same process. Stops gracefully on SIGTERM or SIGINT.")
	noWorkers := fs.Bool("no-workers", false, "do not work background jobs (run bangfu worker processes instead)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	cfg, log, err := p.config()
	if err != nil {
		return err
	}
	p.limitMemory(cfg, log)
	a, err := app.New(ctx, cfg, log, p.options(!*noWorkers))
	if err != nil {
		return err
	}
	defer a.Close()
	if err := a.DB.SchemaCurrent(ctx); err != nil {
		return err
	}
	ln, err := net.Listen("tcp", cfg.Addr)
	if err != nil {
		return fmt.Errorf("BANGFU_ADDR: %w", err)
	}
	if p.ready != nil {
		p.ready(ln.Addr())
	}
	return a.Serve(ctx, ln)
}

func (p *program) worker(ctx context.Context, args []string) error {
	fs := p.flags("worker", "Works background jobs (follow-ups, the stall sweep, e-mail) without serving\nHTTP. Run as many as needed; periodic jobs run once, on the elected leader.")
	if err := fs.Parse(args); err != nil {
		return err
	}
	cfg, log, err := p.config()
	if err != nil {
		return err
	}
	p.limitMemory(cfg, log)
	a, err := app.New(ctx, cfg, log, p.options(true))
	if err != nil {
		return err
	}
	defer a.Close()
	if err := a.DB.SchemaCurrent(ctx); err != nil {
		return err
	}
	return a.Serve(ctx, nil)
}

func (p *program) migrate(ctx context.Context, args []string) error {
	fs := p.flags("migrate", "Applies every pending schema change, bangfu's and River's. Idempotent;\nsafe when several processes run it at once.")
	if err := fs.Parse(args); err != nil {
		return err
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
	if err := a.DB.Migrate(ctx, log); err != nil {
		return err
	}
	fmt.Fprintln(p.stdout, "database schema is current")
	return nil
}

// limitMemory sets the Go runtime's soft memory limit of a long-running
// process to cfg.MemoryLimit, unless GOMEMLIMIT is set (the runtime has
// read it) or a test runs the command in-process. Under the limit the collector runs more often rather than let
// the heap double: bursts of logins (argon2id takes 19 MiB a check, two at
// a time) otherwise leave the heap at twice its live size until the
// scavenger returns it.
func (p *program) limitMemory(cfg *config.Config, log *slog.Logger) {
	if cfg.MemoryLimit == 0 || !p.ownsProcess {
		return
	}
	if _, set := os.LookupEnv("GOMEMLIMIT"); set {
		return
	}
	debug.SetMemoryLimit(cfg.MemoryLimit)
	// With the limit as the bound, the collector need not also run each
	// time the heap doubles: the live heap of a serving process is 10–20 MB,
	// so at the default GOGC=100 it ran every few MB of garbage — a fifth
	// of the server's CPU under load (docs/operations.md, "Memory"). At 400
	// it runs when the heap is five times the live one, or at the limit.
	// GOGC, when set, decides.
	if _, set := os.LookupEnv("GOGC"); !set {
		debug.SetGCPercent(400)
	}
	log.Debug("memory limit", "bytes", cfg.MemoryLimit)
}
