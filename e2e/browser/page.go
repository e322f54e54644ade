package browser

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/chromedp/cdproto"
	"github.com/chromedp/cdproto/emulation"
	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/cdproto/target"
	"github.com/chromedp/chromedp"
)

// Page is one tab or popup of a [Browser]. Its methods are safe to call from
// several goroutines, but the steps of one flow should run in order.
//
// A Page follows its target across navigations, also cross-origin ones that
// move it to another renderer process.
type Page struct {
	b      *Browser
	opener target.ID

	// id, ctx and cancel are set before ready closes.
	id     target.ID
	ctx    context.Context
	cancel context.CancelFunc

	// ready closes when the attach to the target ended; attachErr is its
	// error.
	ready     chan struct{}
	attachErr error

	closed    chan struct{}
	closeOnce sync.Once

	mu      sync.Mutex
	logs    []string
	lastURL string
	reqURLs map[network.RequestID]string
	// claimed counts the popups of this page that ExpectPopup handed out.
	claimed int
}

// newPage returns a page that is not attached yet.
func newPage(b *Browser, opener target.ID) *Page {
	return &Page{
		b:       b,
		opener:  opener,
		cancel:  func() {},
		ready:   make(chan struct{}),
		closed:  make(chan struct{}),
		reqURLs: make(map[network.RequestID]string),
	}
}

// attachOnce runs the first chromedp action on ctx, which attaches its
// target, bounded by timeout. The first action binds the target to ctx, so
// the timeout must not be on ctx itself.
func attachOnce(ctx context.Context, cancel context.CancelFunc, timeout time.Duration) error {
	return within(ctx, cancel, timeout, func() error { return chromedp.Do(ctx) })
}

// attached records the context of an attached page, watches for its target
// to go away, and marks the page ready.
func (p *Page) attached(ctx context.Context, cancel context.CancelFunc) {
	defer close(p.ready)
	p.ctx, p.cancel = ctx, cancel
	if p.id == "" { // a tab from NewPage; a popup knows its id already
		p.id = chromedp.FromContext(ctx).Target.TargetID
	}
	detached, err := chromedp.Detached(ctx)
	if err != nil {
		p.attachErr = err
		return
	}
	go func() {
		select {
		case <-detached:
			p.markClosed()
		case <-ctx.Done():
		}
	}()
}

// attachFailed marks the page ready with the error of its attach.
func (p *Page) attachFailed(err error) {
	p.attachErr = err
	p.markClosed()
	close(p.ready)
}

// markClosed records that the target of the page is gone.
func (p *Page) markClosed() {
	p.closeOnce.Do(func() { close(p.closed) })
}

// Closed reports whether the page is closed, for example a popup that called
// window.close().
func (p *Page) Closed() bool {
	select {
	case <-p.closed:
		return true
	default:
		return false
	}
}

// WaitClosed waits until the page is closed.
func (p *Page) WaitClosed(timeout time.Duration) error {
	timer := time.NewTimer(timeout)
	defer timer.Stop()
	select {
	case <-p.closed:
		return nil
	case <-timer.C:
		return fmt.Errorf("browser: wait closed: page still open after %v: %w", timeout, context.DeadlineExceeded)
	}
}

// Close closes the page and waits until it is gone. Closing a closed page
// does nothing.
func (p *Page) Close() error {
	err := p.run("close", p.b.timeout, func(ctx context.Context) error {
		_, err := chromedp.CallBrowser(ctx, target.CloseTarget, target.CloseTargetParams{TargetID: p.id})
		return err
	})
	if err != nil && !errors.Is(err, ErrClosed) {
		return err
	}
	return p.WaitClosed(p.b.timeout)
}

// op returns a context for one operation on the page. It ends after timeout,
// and as soon as the page closes.
func (p *Page) op(timeout time.Duration) (context.Context, context.CancelFunc, error) {
	if err := waitReady(p, timeout); err != nil {
		return nil, nil, err
	}
	if p.attachErr != nil {
		return nil, nil, fmt.Errorf("%w (attach failed: %v)", ErrClosed, p.attachErr)
	}
	if p.Closed() {
		return nil, nil, ErrClosed
	}
	ctx, cancel := context.WithTimeout(p.ctx, timeout)
	go func() {
		select {
		case <-p.closed:
			cancel()
		case <-ctx.Done():
		}
	}()
	return ctx, cancel, nil
}

// run runs f with an operation context and wraps its error with what.
func (p *Page) run(what string, timeout time.Duration, f func(ctx context.Context) error) error {
	ctx, cancel, err := p.op(timeout)
	if err != nil {
		return fmt.Errorf("browser: %s: %w", what, err)
	}
	defer cancel()
	if err := f(ctx); err != nil {
		return fmt.Errorf("browser: %s: %w", what, p.explain(ctx, timeout, err))
	}
	return nil
}

// retry is run for an operation that is safe to repeat: it repeats f while
// f fails with an error that a navigation in progress causes (the renderer
// of the page was swapped, or its document replaced), until timeout.
func (p *Page) retry(what string, timeout time.Duration, f func(ctx context.Context) error) error {
	return p.run(what, timeout, func(ctx context.Context) error {
		for {
			err := f(ctx)
			if err == nil || !transient(err) {
				return err
			}
			select {
			case <-ctx.Done():
				return err
			case <-time.After(20 * time.Millisecond):
			}
		}
	})
}

// transient reports whether err is one that a navigation in progress causes,
// and that a retry on the next document can fix.
func transient(err error) bool {
	var e *cdproto.Error
	if !errors.As(err, &e) {
		return false
	}
	for _, s := range []string{
		"navigated or closed", "Cannot find context", "context was destroyed",
		"No node with given id", "Could not find node with given id",
	} {
		if strings.Contains(e.Message, s) {
			return true
		}
	}
	return false
}

// explain turns the error of an operation into one that says why it failed.
func (p *Page) explain(ctx context.Context, timeout time.Duration, err error) error {
	var exc *chromedp.ExceptionError
	switch {
	case errors.As(err, &exc):
		return newJSError(exc)
	case p.Closed():
		return fmt.Errorf("%w: %v", ErrClosed, err)
	case errors.Is(ctx.Err(), context.DeadlineExceeded):
		return fmt.Errorf("timed out after %v: %w", timeout, err)
	}
	return err
}

// Navigate loads url in the page and waits for its load event.
func (p *Page) Navigate(url string) error {
	return p.run("navigate "+url, p.b.timeout, func(ctx context.Context) error {
		return chromedp.Do(ctx, chromedp.Navigate(url))
	})
}

// WaitVisible waits until the first element that matches the CSS selector is
// visible.
func (p *Page) WaitVisible(css string, timeout time.Duration) error {
	return p.retry("wait visible "+css, timeout, func(ctx context.Context) error {
		return chromedp.Do(ctx, chromedp.WaitVisible(chromedp.CSS(css)))
	})
}

// setValueJS sets the value of an element the way a typing user would, so
// that frameworks that track the value setter (React) see it too.
const setValueJS = `(function(sel, v) {
	const el = document.querySelector(sel);
	if (!el) throw new Error("no element matches " + sel);
	const proto = Object.getPrototypeOf(el);
	const desc = Object.getOwnPropertyDescriptor(proto, "value");
	if (desc && desc.set) desc.set.call(el, v); else el.value = v;
	el.dispatchEvent(new Event("input", {bubbles: true}));
	el.dispatchEvent(new Event("change", {bubbles: true}));
	return true;
})(%s, %s)`

// SetValue waits for the first element that matches the CSS selector and
// sets its value, firing input and change events.
func (p *Page) SetValue(css, value string) error {
	return p.retry("set value "+css, p.b.timeout, func(ctx context.Context) error {
		if err := chromedp.Do(ctx, chromedp.WaitReady(chromedp.CSS(css))); err != nil {
			return err
		}
		js := fmt.Sprintf(setValueJS, jsString(css), jsString(value))
		_, err := chromedp.Run(ctx, chromedp.Evaluate[bool](js))
		return err
	})
}

// Click waits until the first element that matches the CSS selector is
// visible and clicks it with the mouse.
func (p *Page) Click(css string) error {
	return p.run("click "+css, p.b.timeout, func(ctx context.Context) error {
		return chromedp.Do(ctx, chromedp.Click(chromedp.CSS(css)))
	})
}

// Text waits for the first element that matches the CSS selector and returns
// its visible text (innerText).
func (p *Page) Text(css string) (string, error) {
	var text string
	err := p.retry("text "+css, p.b.timeout, func(ctx context.Context) error {
		var err error
		text, err = chromedp.Run(ctx, chromedp.Text(chromedp.CSS(css)))
		return err
	})
	return text, err
}

// HTML returns the outer HTML of the document.
func (p *Page) HTML() (string, error) {
	var html string
	err := p.retry("html", p.b.timeout, func(ctx context.Context) error {
		var err error
		html, err = chromedp.Run(ctx, chromedp.Evaluate[string](`document.documentElement.outerHTML`))
		return err
	})
	return html, err
}

// URL returns the URL of the page as the browser knows it. It works during a
// navigation too, when the page has no document to ask.
func (p *Page) URL() (string, error) {
	return p.url(p.b.timeout)
}

// url is URL bounded by timeout.
func (p *Page) url(timeout time.Duration) (string, error) {
	var url string
	err := p.run("url", timeout, func(ctx context.Context) error {
		res, err := chromedp.CallBrowser(ctx, target.GetTargetInfo, target.GetTargetInfoParams{TargetID: p.id})
		if err != nil {
			return err
		}
		url = res.TargetInfo.URL
		return nil
	})
	return url, err
}

// WaitURL waits until match returns true for the URL of the page, and returns
// that URL.
func (p *Page) WaitURL(match func(url string) bool, timeout time.Duration) (string, error) {
	deadline := time.Now().Add(timeout)
	last := ""
	for {
		url, err := p.URL()
		if err != nil {
			return url, fmt.Errorf("browser: wait url: %w", err)
		}
		if match(url) {
			return url, nil
		}
		last = url
		if time.Now().After(deadline) {
			return last, fmt.Errorf("browser: wait url: still %s after %v: %w", last, timeout, context.DeadlineExceeded)
		}
		select {
		case <-p.closed:
			return last, fmt.Errorf("browser: wait url: last %s: %w", last, ErrClosed)
		case <-time.After(25 * time.Millisecond):
		}
	}
}

// ExpectPopup claims the next popup of this page (a window it opens with
// window.open, as MSAL loginPopup does), and returns a func that waits for it.
//
// The browser records every popup from the moment it starts, in the order
// they open, and each ExpectPopup claims the next one that no earlier call
// claimed. So no popup is missed, whether ExpectPopup is called before the
// action that opens the popup (the clearest order) or right after it:
//
//	wait := page.ExpectPopup()
//	// ... trigger window.open ...
//	popup, err := wait(10 * time.Second)
//
// The wait returns the popup once it is attached. A popup that closed itself
// before the attach finished (a fast silent flow) is returned all the same,
// with Closed true; its Logs still list its navigations.
func (p *Page) ExpectPopup() (wait func(timeout time.Duration) (*Page, error)) {
	p.b.mu.Lock()
	i := p.claimed
	p.claimed++
	p.b.mu.Unlock()
	return func(timeout time.Duration) (*Page, error) {
		start := time.Now()
		popup, err := p.b.popupAt(p.id, i, timeout)
		if err != nil {
			return nil, fmt.Errorf("browser: wait popup: %w", err)
		}
		if err := waitReady(popup, timeout-time.Since(start)); err != nil {
			return nil, fmt.Errorf("browser: wait popup: %w", err)
		}
		if popup.attachErr != nil && !popup.Closed() {
			return nil, fmt.Errorf("browser: wait popup: attach: %w", popup.attachErr)
		}
		return popup, nil
	}
}

// waitReady waits until the attach of p ended.
func waitReady(p *Page, timeout time.Duration) error {
	select {
	case <-p.ready: // checked first: the timeout can be over already
		return nil
	default:
	}
	timer := time.NewTimer(timeout)
	defer timer.Stop()
	select {
	case <-p.ready:
		return nil
	case <-timer.C:
		return fmt.Errorf("not attached after %v: %w", timeout, context.DeadlineExceeded)
	}
}

// Eval evaluates the JavaScript expression js in the page and decodes its
// result, which must be JSON-serializable, into T. When the expression gives
// a Promise, Eval awaits it. A thrown exception or a rejected promise becomes
// a [*JSError] that carries the JavaScript error message. The call is bounded
// by [Options.Timeout]; see [EvalTimeout] for another bound.
//
// A JavaScript null or undefined gives an error unless T can be nil (a
// pointer, slice, map or any).
func Eval[T any](p *Page, js string) (T, error) {
	return EvalTimeout[T](p, js, p.b.timeout)
}

// EvalTimeout is [Eval] bounded by timeout.
func EvalTimeout[T any](p *Page, js string, timeout time.Duration) (T, error) {
	var v T
	err := p.run("eval "+abbrev(js, 80), timeout, func(ctx context.Context) error {
		var err error
		v, err = chromedp.Run(ctx, chromedp.Evaluate[T](js, chromedp.EvalAwaitPromise))
		return err
	})
	return v, err
}

// JSError is a JavaScript exception or promise rejection that [Eval] met.
type JSError struct {
	// Message is the error as JavaScript shows it, such as "Error: boom" or
	// the rejected value for a rejection with a non-Error.
	Message string
	// Detail is the protocol's text, such as "Uncaught" or "Uncaught (in
	// promise)", and the stack when there is one.
	Detail string
}

// Error returns the JavaScript message.
func (e *JSError) Error() string {
	return "javascript: " + e.Message
}

// newJSError converts the exception that chromedp returned.
func newJSError(exc *chromedp.ExceptionError) *JSError {
	d := exc.ExceptionDetails
	e := &JSError{Message: d.Text, Detail: exc.Error()}
	if obj := d.Exception; obj != nil {
		switch {
		case obj.Description != "":
			e.Message, _, _ = strings.Cut(obj.Description, "\n    at ")
		case len(obj.Value) > 0:
			var s string
			if json.Unmarshal(obj.Value, &s) == nil {
				e.Message = s
			} else {
				e.Message = string(obj.Value)
			}
		}
	}
	return e
}

// jsString returns s as a JavaScript string literal.
func jsString(s string) string {
	b, _ := json.Marshal(s)
	return string(b)
}

// abbrev shortens s to at most n runes, on one line.
func abbrev(s string, n int) string {
	s = strings.Join(strings.Fields(s), " ")
	if r := []rune(s); len(r) > n {
		return string(r[:n-1]) + "…"
	}
	return s
}

// Emulate sets the page's viewport to width × height CSS pixels and its
// prefers-color-scheme media feature ("light", "dark"; "" for the browser's own), for tests
// of how pages look in every theme and width (a popup, a phone held upright).
func (p *Page) Emulate(width, height int, colorScheme string) error {
	return p.run("emulate", p.b.timeout, func(ctx context.Context) error {
		if _, err := chromedp.Call(ctx, emulation.SetDeviceMetricsOverride, emulation.SetDeviceMetricsOverrideParams{
			Width: int64(width), Height: int64(height), DeviceScaleFactor: 1}); err != nil {
			return err
		}
		_, err := chromedp.Call(ctx, emulation.SetEmulatedMedia, emulation.SetEmulatedMediaParams{
			Features: []*emulation.MediaFeature{{Name: "prefers-color-scheme", Value: colorScheme}}})
		return err
	})
}

// Screenshot returns a PNG of the whole page, beyond the viewport.
func (p *Page) Screenshot() ([]byte, error) {
	var png []byte
	err := p.run("screenshot", p.b.timeout, func(ctx context.Context) error {
		var err error
		png, err = chromedp.Run(ctx, chromedp.FullScreenshot(100))
		return err
	})
	return png, err
}
