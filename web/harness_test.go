package web_test

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/runtime"
	"github.com/chromedp/chromedp"
	"github.com/stretchr/testify/require"

	"github.com/bangfu/bangfu/internal/apptest"
	"github.com/bangfu/bangfu/internal/directory"
)

// browser is one headless Chromium shared by the package's tests; each
// test gets its own incognito browser context, so cookies never mix.
var browser context.Context

// axeSource is axe-core (BANGFU_AXE, installed by `make test`), injected
// into pages to check their accessibility.
var axeSource string

func TestMain(m *testing.M) {
	flag.Parse()
	if f := flag.Lookup("test.run"); f != nil && f.Value.String() == "^$" {
		// No test runs (make bench runs every package's benchmarks this
		// way, and this package has none): no browser to start.
		os.Exit(m.Run())
	}
	path := os.Getenv("BANGFU_CHROMIUM")
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome"} {
		if path != "" {
			break
		}
		path, _ = exec.LookPath(name)
	}
	if path == "" {
		fmt.Fprintln(os.Stderr, "web tests need Chromium: run `make test` (it installs Debian's chromium) or set BANGFU_CHROMIUM")
		os.Exit(1)
	}
	axe := os.Getenv("BANGFU_AXE")
	b, err := os.ReadFile(axe)
	if axe == "" || err != nil {
		fmt.Fprintln(os.Stderr, "web tests need axe-core for the accessibility checks: run `make test` (it installs it) or set BANGFU_AXE to axe.min.js (scripts/axe.sh prints it)")
		os.Exit(1)
	}
	axeSource = string(b)
	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(path), chromedp.NoSandbox, chromedp.Flag("disable-gpu", true),
		chromedp.Flag("disable-quic", true), chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-background-networking", true), chromedp.Flag("disable-sync", true),
		// A browser in China: Chinese is what its user reads.
		chromedp.Flag("lang", "zh-CN"), chromedp.Flag("accept-lang", "zh-CN,zh"))
	alloc, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	bctx, cancelBrowser := chromedp.NewContext(alloc)
	if err := chromedp.Do(bctx); err != nil {
		fmt.Fprintln(os.Stderr, "start Chromium:", err)
		os.Exit(1)
	}
	browser = bctx
	code := m.Run()
	cancelBrowser()
	cancelAlloc()
	os.Exit(code)
}

// Viewports the tests use: a 360-pixel phone and a desktop.
type viewport struct{ w, h int64 }

var (
	phone   = viewport{360, 780}
	desktop = viewport{1280, 900}
)

// tab opens a fresh incognito tab for t at viewport v. When t fails, the
// tab's screenshot and HTML are saved (BANGFU_ARTIFACTS, default a
// directory under the system's temp dir) and their paths logged.
func tab(t *testing.T, v viewport) context.Context {
	t.Helper()
	ctx, cancel := chromedp.NewContext(browser, chromedp.WithNewBrowserContext())
	t.Cleanup(cancel)
	ctx, cancelTimeout := context.WithTimeout(ctx, 90*time.Second)
	t.Cleanup(cancelTimeout)
	require.NoError(t, chromedp.Do(ctx, chromedp.EmulateViewport(v.w, v.h)))
	t.Cleanup(func() {
		if t.Failed() {
			saveArtifacts(t, ctx)
		}
	})
	return ctx
}

var unsafeName = regexp.MustCompile(`[^A-Za-z0-9_.-]+`)

func saveArtifacts(t *testing.T, ctx context.Context) {
	dir := os.Getenv("BANGFU_ARTIFACTS")
	if dir == "" {
		dir = filepath.Join(os.TempDir(), "bangfu-ui-failures")
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Logf("save artifacts: %v", err)
		return
	}
	base := filepath.Join(dir, unsafeName.ReplaceAllString(t.Name(), "_"))
	actx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	if png, err := chromedp.Run(actx, chromedp.FullScreenshot(100)); err == nil {
		_ = os.WriteFile(base+".png", png, 0o644)
	}
	if html, err := chromedp.Run(actx, chromedp.OuterHTML("html")); err == nil {
		_ = os.WriteFile(base+".html", []byte(html), 0o644)
	}
	loc, _ := chromedp.Run(actx, chromedp.Location())
	t.Logf("the page at failure (%s): %s.png and %s.html", loc, base, base)
}

// login logs u in through the login form, with password pw.
func login(t *testing.T, ctx context.Context, base, username, pw string) {
	t.Helper()
	require.NoError(t, chromedp.Do(ctx,
		chromedp.Navigate(base+"/login"),
		chromedp.WaitVisible("#login-form"),
		chromedp.SendKeys("#username", username),
		chromedp.SendKeys("#password", pw),
		chromedp.Click("#login-submit"),
		chromedp.WaitNotPresent("#login-form"),
	))
}

// loginAs logs a test user in (every test user has apptest.Password).
func loginAs(t *testing.T, ctx context.Context, env *apptest.Env, u directory.User) {
	t.Helper()
	login(t, ctx, env.URL, u.Username, apptest.Password)
}

// text reads the text of the first element matching sel.
func text(t *testing.T, ctx context.Context, sel string) string {
	t.Helper()
	s, err := chromedp.Run(ctx, chromedp.Text(sel))
	require.NoError(t, err, "read %s", sel)
	return strings.TrimSpace(s)
}

// count returns how many elements match the CSS selector sel.
func count(t *testing.T, ctx context.Context, sel string) int {
	t.Helper()
	n, err := chromedp.Run(ctx, chromedp.Evaluate[int](fmt.Sprintf(`document.querySelectorAll(%q).length`, sel)))
	require.NoError(t, err)
	return n
}

// location returns the tab's URL.
func location(t *testing.T, ctx context.Context) string {
	t.Helper()
	l, err := chromedp.Run(ctx, chromedp.Location())
	require.NoError(t, err)
	return l
}

type axeViolation struct {
	ID     string `json:"id"`
	Impact string `json:"impact"`
	Help   string `json:"help"`
	Nodes  []struct {
		Target []any  `json:"target"`
		HTML   string `json:"html"`
	} `json:"nodes"`
}

// accessible runs axe-core on the tab's page and fails t for any violation
// of impact "serious" or "critical" (WCAG 2.1 A and AA rules and axe's best
// practices).
func accessible(t *testing.T, ctx context.Context) {
	t.Helper()
	loaded, err := chromedp.Run(ctx, chromedp.Evaluate[bool](`typeof window.axe !== "undefined"`))
	require.NoError(t, err)
	if !loaded {
		_, err := chromedp.Run(ctx, chromedp.Evaluate[chromedp.Void](axeSource))
		require.NoError(t, err, "inject axe-core")
	}
	raw, err := chromedp.Run(ctx, chromedp.Evaluate[[]byte](
		`axe.run(document, {runOnly: {type: "tag", values: ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "best-practice"]}, resultTypes: ["violations"]})
			.then(r => r.violations)`,
		func(p *runtime.EvaluateParams) { yes := true; p.AwaitPromise = &yes }))
	require.NoError(t, err, "run axe-core")
	var vs []axeViolation
	require.NoError(t, json.Unmarshal(raw, &vs))
	var bad []string
	for _, v := range vs {
		if v.Impact != "serious" && v.Impact != "critical" {
			continue
		}
		for _, n := range v.Nodes {
			bad = append(bad, fmt.Sprintf("%s (%s): %s — %v %s", v.ID, v.Impact, v.Help, n.Target, n.HTML))
		}
	}
	require.Empty(t, bad, "accessibility violations on %s", location(t, ctx))
}

// screenshot saves the tab's full page as name.png in BANGFU_SCREENSHOTS
// (make screenshots sets it to docs/screenshots), or in a temporary
// directory: the suite takes them either way.
func screenshot(t *testing.T, ctx context.Context, name string) {
	t.Helper()
	dir := os.Getenv("BANGFU_SCREENSHOTS")
	if dir == "" {
		dir = t.TempDir()
	}
	png, err := chromedp.Run(ctx, chromedp.FullScreenshot(100))
	require.NoError(t, err)
	require.Greater(t, len(png), 1000)
	require.NoError(t, os.MkdirAll(dir, 0o755))
	require.NoError(t, os.WriteFile(filepath.Join(dir, name+".png"), png, 0o644))
}

func itoa(n int64) string { return fmt.Sprint(n) }
