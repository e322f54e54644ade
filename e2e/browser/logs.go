package browser

import (
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"github.com/chromedp/cdproto/log"
	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/cdproto/runtime"
)

// maxLogs bounds the number of log lines that one page keeps.
const maxLogs = 2000

// Logs returns what the page reported so far, one line each, in order:
// console messages ("console.log: ..."), uncaught exceptions and unhandled
// rejections ("exception: ..."), browser log entries ("log.error: ..."),
// failed loads ("load failed: URL: net::ERR_..."), HTTP error responses
// ("http 500: URL") and URL changes ("navigated: URL").
//
// The navigations are complete. The other lines start when the page is
// attached: a popup is attached as soon as it opens, which takes chromedp
// about 100-200 ms. Chrome replays the console of the current document on
// attach, so only messages of a document that the popup already left by then
// (a fast redirect) can be missing.
func (p *Page) Logs() []string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return append([]string(nil), p.logs...)
}

// record turns an event of the page's target into a log line. chromedp calls
// it on the goroutine that reads the target's messages, so it must be fast
// and must not send a command.
func (p *Page) record(ev any) {
	line := ""
	switch ev := ev.(type) {
	case string:
		line = ev
	case *runtime.EventConsoleAPICalled:
		line = fmt.Sprintf("console.%s: %s", ev.Type, argsText(ev.Args))
	case *runtime.EventExceptionThrown:
		line = "exception: " + exceptionText(ev.ExceptionDetails)
	case *log.EventEntryAdded:
		e := ev.Entry
		if isFavicon(e.URL) {
			return
		}
		line = fmt.Sprintf("log.%s (%s): %s", e.Level, e.Source, e.Text)
		if e.URL != "" {
			line += " [" + e.URL + "]"
		}
	default:
		line = p.networkLine(ev)
	}
	if line == "" {
		return
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	p.add(line)
}

// add appends a log line; p.mu must be held.
func (p *Page) add(line string) {
	if len(p.logs) < maxLogs {
		p.logs = append(p.logs, line)
	}
}

// navigated records that the URL of the page changed. The browser reports it
// (Target.targetInfoChanged) from the moment the target exists, so the
// navigations of a popup are complete even before the popup is attached.
func (p *Page) navigated(url string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if url != p.lastURL && url != "" && url != "about:blank" {
		p.lastURL = url
		p.add("navigated: " + url)
	}
}

// networkLine returns the log line of a network event, or "" for none. It
// remembers the URL of each request until the request ends.
func (p *Page) networkLine(ev any) string {
	p.mu.Lock()
	defer p.mu.Unlock()
	switch ev := ev.(type) {
	case *network.EventRequestWillBeSent:
		p.reqURLs[ev.RequestID] = ev.Request.URL
	case *network.EventResponseReceived:
		if r := ev.Response; r != nil && r.Status >= 400 && !isFavicon(r.URL) {
			return fmt.Sprintf("http %d: %s", r.Status, r.URL)
		}
	case *network.EventLoadingFinished:
		delete(p.reqURLs, ev.RequestID)
	case *network.EventLoadingFailed:
		url, ok := p.reqURLs[ev.RequestID]
		delete(p.reqURLs, ev.RequestID)
		if !ok {
			url = "(URL unknown: request sent before the attach)"
		}
		line := fmt.Sprintf("load failed: %s: %s", url, ev.ErrorText)
		if ev.BlockedReason != "" {
			line += " (blocked: " + string(ev.BlockedReason) + ")"
		}
		if ev.Canceled {
			line += " (canceled)"
		}
		return line
	}
	return ""
}

// isFavicon reports whether url is the favicon that the browser asks every
// origin for; its 404 is noise in the logs.
func isFavicon(url string) bool {
	return strings.HasSuffix(url, "/favicon.ico")
}

// argsText renders the arguments of a console call, roughly as the DevTools
// console does.
func argsText(args []*runtime.RemoteObject) string {
	parts := make([]string, 0, len(args))
	for _, a := range args {
		parts = append(parts, valueText(a))
	}
	return strings.Join(parts, " ")
}

// valueText renders one JavaScript value.
func valueText(o *runtime.RemoteObject) string {
	switch {
	case o == nil:
		return "null"
	case o.Type == runtime.RemoteObjectTypeString:
		var s string
		if json.Unmarshal(o.Value, &s) == nil {
			return s
		}
	case o.UnserializableValue != "":
		return string(o.UnserializableValue)
	case o.Preview != nil && o.Subtype != runtime.RemoteObjectSubtypeError:
		return previewText(o.Preview)
	case o.Description != "":
		return o.Description
	case len(o.Value) > 0:
		return string(o.Value)
	}
	return string(o.Type)
}

// previewText renders the preview of an object, such as {a: 1, b: "x"} or
// [1, 2].
func previewText(p *runtime.ObjectPreview) string {
	items := make([]string, 0, len(p.Properties)+1)
	for _, prop := range p.Properties {
		v := prop.Value
		if prop.Type == runtime.PropertyPreviewTypeString {
			v = fmt.Sprintf("%q", v)
		}
		if p.Subtype != runtime.ObjectPreviewSubtypeArray {
			v = prop.Name + ": " + v
		}
		items = append(items, v)
	}
	if p.Overflow {
		items = append(items, "…")
	}
	if p.Subtype == runtime.ObjectPreviewSubtypeArray {
		return "[" + strings.Join(items, ", ") + "]"
	}
	return "{" + strings.Join(items, ", ") + "}"
}

// exceptionText renders an uncaught exception: its text, its error, and where
// it was thrown.
func exceptionText(d *runtime.ExceptionDetails) string {
	text := d.Text
	if d.Exception != nil {
		desc, _, _ := strings.Cut(valueText(d.Exception), "\n    at ")
		text += " " + desc
	}
	url, line, col := d.URL, d.LineNumber, d.ColumnNumber
	if st := d.StackTrace; url == "" && st != nil && len(st.CallFrames) > 0 {
		f := st.CallFrames[0]
		url, line, col = f.URL, f.LineNumber, f.ColumnNumber
	}
	if url != "" {
		text += fmt.Sprintf(" [%s:%d:%d]", url, line+1, col+1)
	}
	return text
}

// Dump returns a report of every page of the browser, for the log of a failed
// test: the URL, the Logs and a short excerpt of the text of each page, and
// the errors that chromedp reported. Start logs it when the test failed. Each
// page's part is bounded to a few seconds.
func (b *Browser) Dump() string {
	b.mu.Lock()
	pages := append([]*Page(nil), b.pages...)
	notes := append([]string(nil), b.notes...)
	b.mu.Unlock()

	var sb strings.Builder
	fmt.Fprintf(&sb, "browser dump: %d page(s)\n", len(pages))
	for i, p := range pages {
		b.dumpPage(&sb, i, p, pages)
	}
	if len(notes) > 0 {
		sb.WriteString("chromedp reported:\n")
		for _, n := range notes {
			fmt.Fprintf(&sb, "    %s\n", n)
		}
	}
	return sb.String()
}

// dumpPage writes the part of Dump for the page number i.
func (b *Browser) dumpPage(sb *strings.Builder, i int, p *Page, pages []*Page) {
	kind := "tab"
	if p.opener != "" {
		kind = "popup of " + string(p.opener)
		for j, o := range pages {
			if o.id == p.opener {
				kind = fmt.Sprintf("popup of page %d", j+1)
			}
		}
	}
	const short = 2 * time.Second
	state, url, text := "open", "", ""
	if p.Closed() {
		state = "closed"
	} else {
		if u, err := p.url(short); err == nil {
			url = u
		} else {
			url = err.Error()
		}
		text, _ = EvalTimeout[string](p, `document.body ? document.body.innerText : ""`, short)
	}
	fmt.Fprintf(sb, "--- page %d (%s, %s, target %s)\n", i+1, kind, state, p.id)
	if url != "" {
		fmt.Fprintf(sb, "  url: %s\n", url)
	}
	sb.WriteString("  logs:\n")
	for _, l := range p.Logs() {
		fmt.Fprintf(sb, "    %s\n", l)
	}
	if text != "" {
		fmt.Fprintf(sb, "  text: %s\n", abbrev(text, 600))
	}
}
