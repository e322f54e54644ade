// Package browser drives a real headless Chromium for Sigil's end-to-end tests.
//
// It is a small wrapper over chromedp, so that the browser tests never call
// chromedp themselves. A test starts a fresh browser with [Start], opens tabs
// with [Browser.NewPage], and drives them with the methods of [Page] and with
// [Eval]. Popups that a page opens (window.open, MSAL loginPopup) are tracked
// from the moment the browser starts; [Page.ExpectPopup] hands them out.
//
// Every call is bounded in time and returns an error, and never hangs, when a
// page or the browser is gone. When a test fails, Start has arranged that the
// test log gets a [Browser.Dump] of every page: its URL, its [Page.Logs] and a
// short excerpt of its text.
//
// The browser resolves only the host names given in [Options.MapHosts] (to
// 127.0.0.1), plus localhost and 127.0.0.1; every other name fails with
// net::ERR_NAME_NOT_RESOLVED, so a test can never reach the internet.
package browser

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/cdproto/target"
	"github.com/chromedp/chromedp"
)

// DefaultTimeout bounds each operation on a page when [Options.Timeout] is
// zero.
const DefaultTimeout = 30 * time.Second

// ErrClosed is the error, wrapped, of an operation on a page that is closed,
// for example a popup that closed itself.
var ErrClosed = errors.New("page closed")

// Require returns the path of a Chromium binary: the environment variable
// SIGIL_CHROMIUM when it is set, or else the first of chromium,
// chromium-browser and google-chrome on the PATH. When none is found it fails
// the test if the environment variable CI is "true", and otherwise skips it
// with a message that says what to install.
func Require(tb testing.TB) string {
	tb.Helper()
	names := []string{"chromium", "chromium-browser", "google-chrome"}
	if env := os.Getenv("SIGIL_CHROMIUM"); env != "" {
		names = []string{env}
	}
	for _, name := range names {
		if path, err := exec.LookPath(name); err == nil {
			tb.Cleanup(func() {
				if !tb.Skipped() {
					tally.Lock()
					tally.ran++
					tally.Unlock()
				}
			})
			return path
		}
	}
	msg := fmt.Sprintf("browser: no Chromium found (looked for %s); install it "+
		"(Debian/Ubuntu: apt-get install chromium) or set SIGIL_CHROMIUM to its path",
		strings.Join(names, ", "))
	if os.Getenv("CI") == "true" {
		tb.Fatal(msg)
		return ""
	}
	Skip(tb, msg)
	return ""
}

// tally counts the browser tests of a test binary that ran (Require found Chromium and the
// test was not skipped) and those skipped through Skip, with the reasons, for Summary.
var tally struct {
	sync.Mutex
	ran     int
	skipped map[string]int // by reason
}

// Skip skips tb for reason, counting it in the summary.
func Skip(tb testing.TB, reason string) {
	tb.Helper()
	tally.Lock()
	if tally.skipped == nil {
		tally.skipped = make(map[string]int)
	}
	tally.skipped[reason]++
	tally.Unlock()
	tb.Skip(reason)
}

// Summary is the line "N browser tests ran, M skipped: reason", or "" when no browser test
// was reached.
func Summary() string {
	tally.Lock()
	defer tally.Unlock()
	skipped := 0
	var reasons []string
	for reason, n := range tally.skipped {
		skipped += n
		reasons = append(reasons, reason)
	}
	if tally.ran == 0 && skipped == 0 {
		return ""
	}
	sort.Strings(reasons)
	line := fmt.Sprintf("%d browser tests ran, %d skipped", tally.ran, skipped)
	if skipped > 0 {
		line += ": " + strings.Join(reasons, "; ")
	}
	return line
}

// Options configure [Start].
type Options struct {
	// ExecPath is the Chromium binary. The default is Require(tb).
	ExecPath string
	// MapHosts are host patterns, such as "*.example.test" or
	// "login.example.test", that the browser resolves to 127.0.0.1. No other
	// name resolves, except localhost and 127.0.0.1.
	MapHosts []string
	// Timeout bounds each operation on a page: a navigation, a wait, an
	// evaluation. The default is DefaultTimeout.
	Timeout time.Duration
}

// Browser is one headless Chromium, started by [Start] for one test.
type Browser struct {
	timeout time.Duration
	dataDir string

	// root is the chromedp context of the first tab of the browser. That tab
	// stays blank; the browser-wide commands (cookies, target info) run on it.
	root       context.Context
	rootCancel context.CancelFunc
	allocStop  context.CancelFunc

	mu sync.Mutex
	// pages holds every page in the order of creation: tabs and popups.
	pages []*Page
	// byID finds a page by its target.
	byID map[target.ID]*Page
	// popups lists the popups of each opener, in the order they opened.
	popups map[target.ID][]*Page
	// popupSignal is closed and replaced each time a popup is recorded.
	popupSignal chan struct{}
	// notes are the errors that chromedp logged about this browser.
	notes []string
	// stopped is true once the browser began to stop.
	stopped bool
}

// Start launches a fresh headless Chromium for one test and stops it in
// tb.Cleanup. If the test fails, the cleanup first logs [Browser.Dump].
func Start(tb testing.TB, opts Options) *Browser {
	tb.Helper()
	if opts.ExecPath == "" {
		opts.ExecPath = Require(tb)
	}
	if opts.Timeout <= 0 {
		opts.Timeout = DefaultTimeout
	}
	b := &Browser{
		timeout:     opts.Timeout,
		dataDir:     tb.TempDir(),
		byID:        make(map[target.ID]*Page),
		popups:      make(map[target.ID][]*Page),
		popupSignal: make(chan struct{}),
	}
	if err := b.launch(opts); err != nil {
		b.stop()
		tb.Fatalf("browser: start %s: %v", opts.ExecPath, err)
	}
	// Cleanups run last-in first-out: dump first, then stop the browser,
	// then (registered earlier by TempDir) remove the profile.
	tb.Cleanup(b.stop)
	tb.Cleanup(func() {
		if tb.Failed() {
			tb.Log(b.Dump())
		}
	})
	return b
}

// allocatorOptions returns the chromedp allocator options for opts.
func (b *Browser) allocatorOptions(opts Options) []chromedp.ExecAllocatorOption {
	return append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(opts.ExecPath),
		chromedp.UserDataDir(b.dataDir),
		chromedp.Flag("headless", "new"),
		chromedp.Flag("no-sandbox", true),
		chromedp.Flag("disable-gpu", true),
		chromedp.Flag("disable-quic", true),
		chromedp.Flag("no-first-run", true),
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.Flag("ignore-certificate-errors", true),
		// Scripted window.open without a user gesture must open a window.
		chromedp.Flag("disable-popup-blocking", true),
		chromedp.Flag("host-resolver-rules", hostResolverRules(opts.MapHosts)),
	)
}

// hostResolverRules returns the value of --host-resolver-rules that maps each
// pattern to 127.0.0.1 and makes every other name fail to resolve. The
// EXCLUDE rules keep the loopback names working; they are checked before the
// MAP rules, and among the MAP rules the first match wins.
func hostResolverRules(patterns []string) string {
	var rules []string
	for _, p := range patterns {
		rules = append(rules, "MAP "+p+" 127.0.0.1")
	}
	rules = append(rules, "MAP * ~NOTFOUND", "EXCLUDE localhost", "EXCLUDE 127.0.0.1")
	return strings.Join(rules, ", ")
}

// launch starts the browser process, attaches to its first tab, and starts to
// track the targets that it creates.
func (b *Browser) launch(opts Options) error {
	alloc, allocStop := chromedp.NewExecAllocator(context.Background(), b.allocatorOptions(opts)...)
	b.allocStop = allocStop
	b.root, b.rootCancel = chromedp.NewContext(alloc,
		chromedp.WithBrowserOption(
			chromedp.WithBrowserLogf(b.note),
			chromedp.WithBrowserErrorf(b.note),
		))
	// The first Do starts the browser and binds it to b.root, so it must not
	// get a timeout of its own; bound it from outside.
	if err := within(b.root, b.rootCancel, b.timeout, func() error { return chromedp.Do(b.root) }); err != nil {
		return err
	}
	return chromedp.ListenBrowser(b.root, b.onBrowserEvent)
}

// within runs f, which uses ctx, and gives up after timeout: it then cancels
// ctx (so that f returns) and returns a timeout error.
func within(ctx context.Context, cancel context.CancelFunc, timeout time.Duration, f func() error) error {
	done := make(chan error, 1)
	go func() { done <- f() }()
	timer := time.NewTimer(timeout)
	defer timer.Stop()
	select {
	case err := <-done:
		return err
	case <-timer.C:
		cancel()
		<-done
		return fmt.Errorf("timed out after %v: %w", timeout, context.DeadlineExceeded)
	case <-ctx.Done():
		return <-done
	}
}

// note records a message that chromedp logs about the browser.
func (b *Browser) note(format string, args ...any) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if len(b.notes) < 200 {
		b.notes = append(b.notes, fmt.Sprintf(format, args...))
	}
}

// stop closes the browser and waits, for a bounded time, until its processes
// are gone.
func (b *Browser) stop() {
	b.mu.Lock()
	if b.stopped {
		b.mu.Unlock()
		return
	}
	b.stopped = true
	pages := b.pages
	b.mu.Unlock()

	if b.root != nil {
		ctx, cancel := context.WithTimeout(b.root, 10*time.Second)
		_ = chromedp.Cancel(ctx) // closes the browser gracefully
		cancel()
		b.rootCancel()
	}
	for _, p := range pages {
		select {
		case <-p.ready: // an attach in progress ends with the root context
			p.cancel()
		case <-time.After(5 * time.Second):
		}
	}
	if b.allocStop != nil {
		b.allocStop()
	}
	killLeftovers(b.dataDir)
}

// NewPage opens a new tab, in a window of its own, on about:blank.
func (b *Browser) NewPage() (*Page, error) {
	p := newPage(b, "")
	ctx, cancel := chromedp.NewContext(b.root, chromedp.WithListener(p.record))
	if err := attachOnce(ctx, cancel, b.timeout); err != nil {
		cancel() // closes the tab, if it was created
		return nil, fmt.Errorf("browser: new page: %w", err)
	}
	p.attached(ctx, cancel)
	if p.attachErr != nil {
		return nil, fmt.Errorf("browser: new page: %w", p.attachErr)
	}
	b.mu.Lock()
	b.pages = append(b.pages, p)
	b.byID[p.id] = p
	b.mu.Unlock()
	return p, nil
}

// onBrowserEvent tracks the targets of the browser. chromedp calls it on the
// goroutine that reads the browser's messages, so it must not block and must
// not send a command; the attach to a popup runs on its own goroutine.
func (b *Browser) onBrowserEvent(ev any) {
	switch ev := ev.(type) {
	case *target.EventTargetCreated:
		info := ev.TargetInfo
		if info.Type != "page" || info.OpenerID == "" {
			return // tabs from NewPage register themselves
		}
		b.mu.Lock()
		defer b.mu.Unlock()
		if b.stopped || b.byID[info.TargetID] != nil {
			return
		}
		p := newPage(b, info.OpenerID)
		p.id = info.TargetID
		b.pages = append(b.pages, p)
		b.byID[p.id] = p
		b.popups[info.OpenerID] = append(b.popups[info.OpenerID], p)
		close(b.popupSignal)
		b.popupSignal = make(chan struct{})
		go b.attachPopup(p)
	case *target.EventTargetInfoChanged:
		b.mu.Lock()
		p := b.byID[ev.TargetInfo.TargetID]
		b.mu.Unlock()
		if p != nil {
			p.navigated(ev.TargetInfo.URL)
		}
	case *target.EventTargetDestroyed:
		b.mu.Lock()
		p := b.byID[ev.TargetID]
		b.mu.Unlock()
		if p != nil {
			p.markClosed()
		}
	}
}

// attachPopup attaches the popup p, so that its events (and logs) are seen
// from as early as possible, whether or not a test ever asks for it.
//
// A popup that navigates cross-site while chromedp enables its domains fails
// the attach ("Inspected target navigated or closed"), so the attach is tried
// again until it works, the popup is gone, or the timeout ends. The context
// only detaches when it is canceled: canceling a chromedp context made with
// WithTargetID would otherwise close the popup.
func (b *Browser) attachPopup(p *Page) {
	deadline := time.Now().Add(b.timeout)
	for {
		ctx, cancel := chromedp.NewContext(b.root, chromedp.WithTargetID(p.id),
			chromedp.WithDetachOnCancel(), chromedp.WithListener(p.record))
		err := attachOnce(ctx, cancel, time.Until(deadline))
		if err == nil {
			p.attached(ctx, cancel)
			return
		}
		cancel()
		if p.Closed() || b.root.Err() != nil || time.Now().After(deadline) {
			p.record(fmt.Sprintf("attach failed: %v", err))
			p.attachFailed(err)
			return
		}
		select {
		case <-p.closed:
		case <-time.After(20 * time.Millisecond):
		}
	}
}

// popupAt returns the popup number i of the opener, waiting up to timeout for
// it to open.
func (b *Browser) popupAt(opener target.ID, i int, timeout time.Duration) (*Page, error) {
	timer := time.NewTimer(timeout)
	defer timer.Stop()
	for {
		b.mu.Lock()
		list, signal := b.popups[opener], b.popupSignal
		b.mu.Unlock()
		if i < len(list) {
			return list[i], nil
		}
		select {
		case <-signal:
		case <-timer.C:
			return nil, fmt.Errorf("no popup opened within %v: %w", timeout, context.DeadlineExceeded)
		case <-b.root.Done():
			return nil, fmt.Errorf("browser stopped: %w", b.root.Err())
		}
	}
}

// ClearCookies deletes all cookies of this browser.
func (b *Browser) ClearCookies() error {
	return b.control("clear cookies", func(ctx context.Context) error {
		_, err := chromedp.Call(ctx, network.ClearBrowserCookies, cdp.Empty{})
		return err
	})
}

// Cookie is a cookie of the browser.
type Cookie struct {
	Name, Value, Domain, Path string
	// Expires is the zero time for a session cookie.
	Expires          time.Time
	HTTPOnly, Secure bool
	// SameSite is "Strict", "Lax", "None", or "" when the cookie set none.
	SameSite string
	// Partitioned is true for a cookie with a partition key (CHIPS).
	Partitioned bool
}

// Cookies returns the cookies that the browser would send to url.
func (b *Browser) Cookies(url string) ([]Cookie, error) {
	var cookies []Cookie
	err := b.control("cookies "+url, func(ctx context.Context) error {
		res, err := chromedp.Call(ctx, network.GetCookies, network.GetCookiesParams{URLs: []string{url}})
		for _, c := range res.Cookies {
			cookies = append(cookies, newCookie(c))
		}
		return err
	})
	return cookies, err
}

// newCookie converts a cookie of the protocol.
func newCookie(c *network.Cookie) Cookie {
	out := Cookie{
		Name: c.Name, Value: c.Value, Domain: c.Domain, Path: c.Path,
		HTTPOnly: c.HTTPOnly, Secure: c.Secure, SameSite: string(c.SameSite),
		Partitioned: c.PartitionKey != nil,
	}
	if !c.Session && c.Expires > 0 {
		out.Expires = time.Unix(int64(c.Expires), 0)
	}
	return out
}

// DeleteCookies deletes the cookies that the browser would send to url.
func (b *Browser) DeleteCookies(url string) error {
	return b.control("delete cookies "+url, func(ctx context.Context) error {
		res, err := chromedp.Call(ctx, network.GetCookies, network.GetCookiesParams{URLs: []string{url}})
		if err != nil {
			return err
		}
		for _, c := range res.Cookies {
			_, err := chromedp.Call(ctx, network.DeleteCookies, network.DeleteCookiesParams{
				Name: c.Name, Domain: c.Domain, Path: c.Path, PartitionKey: c.PartitionKey,
			})
			if err != nil {
				return fmt.Errorf("cookie %s: %w", c.Name, err)
			}
		}
		return nil
	})
}

// control runs f with a context for the first (blank) tab, bounded by the
// timeout of the browser.
func (b *Browser) control(what string, f func(ctx context.Context) error) error {
	ctx, cancel := context.WithTimeout(b.root, b.timeout)
	defer cancel()
	if err := f(ctx); err != nil {
		if b.root.Err() != nil {
			return fmt.Errorf("browser: %s: browser stopped: %w", what, err)
		}
		return fmt.Errorf("browser: %s: %w", what, err)
	}
	return nil
}
