// Package app wires bangfu's parts together the same way for the `serve`
// and `worker` commands and for end-to-end tests.
package app

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/http/pprof"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"github.com/riverqueue/river"
	"riverqueue.com/riverui"

	"github.com/bangfu/bangfu"
	"github.com/bangfu/bangfu/internal/audit"
	"github.com/bangfu/bangfu/internal/auth"
	"github.com/bangfu/bangfu/internal/config"
	"github.com/bangfu/bangfu/internal/destination"
	"github.com/bangfu/bangfu/internal/directory"
	"github.com/bangfu/bangfu/internal/escalation"
	"github.com/bangfu/bangfu/internal/followup"
	"github.com/bangfu/bangfu/internal/graduate"
	"github.com/bangfu/bangfu/internal/handover"
	"github.com/bangfu/bangfu/internal/http/router"
	"github.com/bangfu/bangfu/internal/http/session"
	"github.com/bangfu/bangfu/internal/httpapi"
	"github.com/bangfu/bangfu/internal/ledger"
	"github.com/bangfu/bangfu/internal/notify"
	"github.com/bangfu/bangfu/internal/password"
	"github.com/bangfu/bangfu/internal/plan"
	"github.com/bangfu/bangfu/internal/postgres"
	"github.com/bangfu/bangfu/internal/report"
	"github.com/bangfu/bangfu/internal/roster"
	"github.com/bangfu/bangfu/internal/sealed"
	"github.com/bangfu/bangfu/internal/settings"
	"github.com/bangfu/bangfu/internal/webui"
)

// Options choose what a process runs.
type Options struct {
	// Workers makes the process work River jobs (and, when elected leader,
	// run periodic jobs). Without it the River client only inserts.
	Workers bool
	// Clock defaults to the system clock.
	Clock bangfu.Clock
	// PasswordParams defaults to password.DefaultParams.
	PasswordParams *password.Params
}

// App is a wired process.
type App struct {
	Config       *config.Config
	Log          *slog.Logger
	DB           *postgres.DB
	Clock        bangfu.Clock
	River        *river.Client[pgx.Tx]
	Metrics      *prometheus.Registry
	Tokens       *auth.Tokens
	Auth         *auth.Service
	Directory    *directory.Service
	Box          *sealed.Box
	Graduates    *graduate.Service
	Plans        *plan.Service
	Ledger       *ledger.Service
	Destinations *destination.Service
	Audit        *audit.Service
	AuditReads   *audit.Reads
	Settings     *settings.Store
	Notify       *notify.Service
	Followups    *followup.Scheduler
	Escalations  *escalation.Service
	Reports      *report.Service
	Roster       *roster.Service
	Handovers    *handover.Service
	// Receiver stands in for a 企业微信 bot in development (nil in prod).
	Receiver *notify.Receiver
	// Router serves the API and the pages.
	Router *router.Router

	workers bool
	jobsUI  *riverui.Handler
}

// New connects to the database and builds every service. It does not
// migrate: run `bangfu migrate` (or DB.Migrate) first.
func New(ctx context.Context, cfg *config.Config, log *slog.Logger, opts Options) (*App, error) {
	if opts.Clock == nil {
		opts.Clock = bangfu.SystemClock{}
	}
	pw := password.DefaultParams
	if opts.PasswordParams != nil {
		pw = *opts.PasswordParams
	}
	db, err := postgres.Open(ctx, cfg.DatabaseURL, cfg.DBMaxConns)
	if err != nil {
		return nil, err
	}
	if cfg.DatabaseReadURL != "" {
		if err := db.AttachReplica(ctx, cfg.DatabaseReadURL, cfg.DBMaxConns, cfg.DatabaseReadMaxLag); err != nil {
			db.Close()
			return nil, err
		}
	}
	a := &App{Config: cfg, Log: log, DB: db, Clock: opts.Clock, workers: opts.Workers}
	a.Tokens = auth.NewTokens(cfg.TokenIssuer, cfg.TokenAudience, cfg.AccessTokenTTL, cfg.SigningKey, cfg.VerifyKeys, opts.Clock)
	a.Directory = &directory.Service{DB: db, Clock: opts.Clock, PasswordParams: pw}
	a.Auth = &auth.Service{DB: db, Directory: a.Directory, Tokens: a.Tokens, RefreshTTL: cfg.RefreshTokenTTL, Clock: opts.Clock, Throttle: auth.DefaultThrottle}
	a.Directory.OnUserChanged = a.Auth.RevokeUser
	if a.Box, err = sealed.New(cfg.DataKey, cfg.PreviousDataKeys...); err != nil {
		db.Close()
		return nil, err
	}
	a.AuditReads = audit.NewReads(db, log)
	a.Graduates = &graduate.Service{DB: db, Box: a.Box, Clock: opts.Clock, Reads: a.AuditReads, Imports: graduate.NewImportGate(graduate.ImportSlots)}
	a.Plans = &plan.Service{DB: db, Clock: opts.Clock, Reads: a.AuditReads}
	a.Ledger = &ledger.Service{DB: db, Clock: opts.Clock, Reads: a.AuditReads}
	a.Destinations = &destination.Service{DB: db, Clock: opts.Clock, Reads: a.AuditReads}
	a.Audit = &audit.Service{DB: db}
	a.Settings = &settings.Store{DB: db, Clock: opts.Clock}
	a.Notify = &notify.Service{DB: db, Clock: opts.Clock, Email: cfg.SMTPURL != "", Box: a.Box,
		PublicURL: cfg.PublicURL, AllowLocal: cfg.WebhookAllowLocal, Mailer: notify.Refuse{}}
	if cfg.SMTPURL != "" {
		if a.Notify.Mailer, err = notify.NewSMTP(cfg.SMTPURL, cfg.SMTPFrom); err != nil {
			a.Close()
			return nil, err
		}
	}
	if cfg.Env == config.EnvDev {
		a.Receiver = &notify.Receiver{Clock: opts.Clock}
	}
	a.Followups = &followup.Scheduler{Clock: opts.Clock, Settings: a.Settings}
	a.Escalations = &escalation.Service{DB: db, Clock: opts.Clock, Reads: a.AuditReads, Notify: a.Notify}
	a.Reports = &report.Service{DB: db, Clock: opts.Clock, Settings: a.Settings, Reads: a.AuditReads, NoCache: !cfg.ReportCache}
	a.Handovers = &handover.Service{DB: db, Clock: opts.Clock, Ledger: a.Ledger, Reads: a.AuditReads, AfterCaseChange: a.Followups.OnCaseChange}
	a.Ledger.AfterAppend = func(ctx context.Context, tx pgx.Tx, actor bangfu.Actor, h graduate.Header, e ledger.Entry, p *ledger.Pending) error {
		if err := a.Followups.OnAppend(ctx, tx, actor, h, e, p); err != nil {
			return err
		}
		return a.Escalations.ResolveOnContact(ctx, tx, actor, h, e, p)
	}
	a.Graduates.AfterMove = ledger.MoveDepartment
	a.Roster = &roster.Service{DB: db, Box: a.Box, Clock: opts.Clock, Reads: a.AuditReads, Ledger: a.Ledger, Plans: a.Plans,
		InsecureWebhooks: cfg.Env == config.EnvDev}
	// Whatever can change a graduate's eligibility enqueues the roster's
	// builds in its own transaction.
	a.Graduates.AfterEligibility = a.Roster.OnEligibilityChange
	a.Plans.AfterRevise = func(ctx context.Context, tx pgx.Tx, actor bangfu.Actor, r plan.Revision) error {
		if err := a.Followups.OnRevise(ctx, tx, actor, r); err != nil {
			return err
		}
		return a.Roster.OnEligibilityChange(ctx, tx, r.StudentID)
	}
	a.Graduates.AfterCaseChange = a.Followups.OnCaseChange
	a.Destinations.AfterCaseChange = a.Followups.OnCaseChange

	if a.River, err = a.newRiver(); err != nil {
		a.Close()
		return nil, err
	}
	a.Notify.River = a.River
	a.Followups.River = a.River
	a.Roster.River = a.River
	a.Metrics = prometheus.NewRegistry()
	a.Metrics.MustRegister(
		collectors.NewGoCollector(),
		collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}),
		postgres.NewPoolCollector(db.Pool),
		postgres.NewJobCollector(db.Pool),
	)
	a.Metrics.MustRegister(a.AuditReads.Collectors()...)
	a.Metrics.MustRegister(db.Collectors()...)
	if a.jobsUI, err = riverui.NewHandler(&riverui.HandlerOpts{
		Endpoints: riverui.NewEndpoints(a.River, nil),
		Logger:    log,
		Prefix:    "/admin/jobs",
	}); err != nil {
		a.Close()
		return nil, fmt.Errorf("river UI: %w", err)
	}
	sessions := &session.Manager{Tokens: a.Tokens, Auth: a.Auth, RefreshTTL: cfg.RefreshTokenTTL}
	a.Router = router.New(cfg, log, sessions, a.Metrics)
	a.Router.Classify = db.Classify
	httpapi.Mount(a.Router, httpapi.Deps{
		Config: cfg, Logger: log, DB: db,
		Tokens: a.Tokens, Auth: a.Auth, Directory: a.Directory,
		Graduates: a.Graduates, Plans: a.Plans, Ledger: a.Ledger, Destinations: a.Destinations, Audit: a.Audit,
		Settings: a.Settings, Notify: a.Notify, Escalations: a.Escalations, Reports: a.Reports, Roster: a.Roster, Handovers: a.Handovers,
		Metrics: a.Metrics, JobsUI: a.jobsUI, Receiver: a.Receiver,
	})
	if err := webui.Mount(a.Router, webui.Deps{
		Logger: log, Clock: opts.Clock, Sessions: sessions, Auth: a.Auth, Directory: a.Directory,
		Graduates: a.Graduates, Plans: a.Plans, Ledger: a.Ledger, Destinations: a.Destinations,
		Escalations: a.Escalations, Reports: a.Reports, Settings: a.Settings, Audit: a.Audit, Notify: a.Notify,
		Receiver: a.Receiver, Roster: a.Roster, Handovers: a.Handovers,
	}); err != nil {
		a.Close()
		return nil, err
	}
	return a, nil
}

// Close writes the queued audit entries and releases the database pools.
func (a *App) Close() {
	a.AuditReads.Close()
	a.DB.Close()
}

// operatorHandler is what Config.MetricsAddr serves, to operators only (it
// must not be reachable from outside): /metrics, and Go's profiles under
// /debug/pprof/ so that a slow or hungry process can be profiled where it
// runs (docs/operations.md, "Profiling").
func (a *App) operatorHandler() http.Handler {
	mux := http.NewServeMux()
	mux.Handle("GET /metrics", promhttp.HandlerFor(a.Metrics, promhttp.HandlerOpts{}))
	mux.HandleFunc("GET /debug/pprof/", pprof.Index)
	mux.HandleFunc("GET /debug/pprof/cmdline", pprof.Cmdline)
	mux.HandleFunc("GET /debug/pprof/profile", pprof.Profile)
	mux.HandleFunc("GET /debug/pprof/symbol", pprof.Symbol)
	mux.HandleFunc("GET /debug/pprof/trace", pprof.Trace)
	return mux
}

// Serve serves HTTP on ln (when not nil), works jobs (when Workers) and
// serves /metrics on Config.MetricsAddr (when set, in serve and worker
// processes alike), until ctx is done. Then it stops gracefully: it stops
// accepting, lets in-flight requests and running jobs finish within
// ShutdownTimeout, cancels what is left, and returns nil.
//
// If any part cannot start (the metrics address is taken, River or its UI
// fails) or a server stops by itself, Serve stops every part that did start
// the same way and returns that error: a process never runs half-started.
func (a *App) Serve(ctx context.Context, ln net.Listener) error {
	runCtx, cancelRun := context.WithCancel(context.WithoutCancel(ctx))
	defer cancelRun()
	errc := make(chan error, 2)
	var (
		servers      []*http.Server
		riverStarted bool
	)
	start := func() error {
		// Listen first: a taken address must not leave jobs running.
		var mln net.Listener
		if a.Config.MetricsAddr != "" {
			var err error
			if mln, err = net.Listen("tcp", a.Config.MetricsAddr); err != nil {
				return fmt.Errorf("BANGFU_METRICS_ADDR: %w", err)
			}
		}
		if a.workers {
			if err := a.River.Start(runCtx); err != nil {
				if mln != nil {
					mln.Close()
				}
				return fmt.Errorf("start river: %w", err)
			}
			riverStarted = true
		}
		if ln != nil {
			if err := a.jobsUI.Start(runCtx); err != nil {
				if mln != nil {
					mln.Close()
				}
				return fmt.Errorf("start river UI: %w", err)
			}
			srv := &http.Server{Handler: a.Handler(), ReadHeaderTimeout: 10 * time.Second, ErrorLog: slog.NewLogLogger(a.Log.Handler(), slog.LevelWarn)}
			servers = append(servers, srv)
			go func() { errc <- serveHTTP(srv, ln) }()
			a.Log.Info("serving HTTP", "addr", ln.Addr().String())
		}
		if mln != nil {
			msrv := &http.Server{Handler: a.operatorHandler(), ReadHeaderTimeout: 10 * time.Second}
			servers = append(servers, msrv)
			go func() { errc <- serveHTTP(msrv, mln) }()
			a.Log.Info("serving metrics", "addr", mln.Addr().String())
		}
		return nil
	}

	serveErr := start()
	switch {
	case serveErr != nil:
		a.Log.Error("could not start", "error", serveErr)
		if ln != nil && len(servers) == 0 {
			ln.Close()
		}
	default:
		select {
		case <-ctx.Done():
			a.Log.Info("shutting down")
		case serveErr = <-errc:
			if serveErr == nil {
				serveErr = errors.New("a server stopped by itself")
			}
			a.Log.Error("server stopped", "error", serveErr)
		}
	}

	stopCtx, cancel := context.WithTimeout(context.Background(), a.Config.ShutdownTimeout)
	defer cancel()
	for _, srv := range servers {
		if err := srv.Shutdown(stopCtx); err != nil {
			a.Log.Warn("HTTP shutdown incomplete", "error", err)
			_ = srv.Close()
		}
	}
	if riverStarted {
		if err := a.River.Stop(stopCtx); err != nil {
			a.Log.Warn("jobs did not finish in time; cancelling them", "error", err)
			cancelCtx, cancel2 := context.WithTimeout(context.Background(), 5*time.Second)
			defer cancel2()
			if err := a.River.StopAndCancel(cancelCtx); err != nil && !errors.Is(err, context.DeadlineExceeded) {
				a.Log.Error("cancel jobs", "error", err)
			}
		}
	}
	a.Log.Info("stopped")
	return serveErr
}

// Handler is what the process serves on BANGFU_ADDR: the router, behind
// the read-your-writes stamp when reads may go to a replica.
func (a *App) Handler() http.Handler {
	return a.DB.ReadYourWrites(a.Router.Handler())
}

func serveHTTP(srv *http.Server, ln net.Listener) error {
	if err := srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}
