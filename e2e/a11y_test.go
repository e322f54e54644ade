package e2e

import (
	"crypto/sha256"
	"encoding/base64"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/sigil-idp/sigil/e2e/browser"
	"github.com/sigil-idp/sigil/e2e/harness"
)

// screenshotDir is where TestPagesAccessible leaves a PNG of every page in both color
// schemes and every width, for a reviewer to look at (git-ignored; the README names it).
const screenshotDir = "screenshots"

// a11yWidths are a small phone, MSAL's popup and a desktop.
var a11yWidths = []int{320, 483, 1280}

// axeJS runs axe-core's WCAG 2.1 A/AA and best-practice rules on the page and returns the
// serious and critical violations, each with the elements it found; then the layout checks
// axe has no rule for: horizontal overflow, and a visible focus indicator on every control.
const axeJS = `(async () => {
	const r = await axe.run(document, {runOnly: {type: "tag", values: ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "best-practice"]}});
	const out = r.violations.filter((v) => v.impact === "serious" || v.impact === "critical")
		.map((v) => v.id + " (" + v.impact + "): " + v.help + " at " + v.nodes.map((n) => n.target.join(" ")).join(", "));
	if (document.documentElement.scrollWidth > window.innerWidth) {
		out.push("overflow: the document is " + document.documentElement.scrollWidth + " px wide in a " + window.innerWidth + " px viewport");
	}
	for (const el of document.querySelectorAll("input:not([type=hidden]), button, a[href]")) {
		el.focus();
		const s = getComputedStyle(el);
		if (document.activeElement === el && s.outlineStyle === "none" && s.boxShadow === "none") {
			out.push("focus: no visible focus indicator on " + el.outerHTML.slice(0, 80));
		}
		el.blur();
	}
	return out;
})()`

// TestPagesAccessible renders each of Sigil's pages — error, sign-in, sign-in with an error,
// consent, account picker, the device code page (with a wrong code) and its success and
// declined results, the sign-out confirmation and its cancel answer, signed out — in the light and the dark scheme at 320, 483 and
// 1280 px, and checks each with axe-core: no serious or critical violation, no horizontal
// overflow, a visible focus on every control. It writes a screenshot of each to
// e2e/screenshots/.
func TestPagesAccessible(t *testing.T) {
	e := harness.Start(t, harness.Options{Edit: withDeviceClient})
	axeSrc, err := os.ReadFile(filepath.Join(harness.NodeModules(t), "axe-core", "axe.min.js"))
	if err != nil {
		t.Fatalf("axe-core is a devDependency (npm ci): %v", err)
	}
	if err := os.MkdirAll(screenshotDir, 0o755); err != nil {
		t.Fatal(err)
	}
	p, err := e.Browser.NewPage()
	if err != nil {
		t.Fatal(err)
	}
	check := func(t *testing.T, name, ready string) {
		t.Helper()
		if err := p.WaitVisible(ready, 20*time.Second); err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if _, err := browser.Eval[bool](p, string(axeSrc)+"\n;true"); err != nil {
			t.Fatalf("%s: loading axe-core: %v", name, err)
		}
		for _, scheme := range []string{"light", "dark"} {
			for _, width := range a11yWidths {
				if err := p.Emulate(width, 800, scheme); err != nil {
					t.Fatal(err)
				}
				problems, err := browser.EvalTimeout[[]string](p, axeJS, 60*time.Second)
				if err != nil {
					t.Fatalf("%s %s %d: axe: %v", name, scheme, width, err)
				}
				for _, pr := range problems {
					t.Errorf("%s, %s, %d px: %s", name, scheme, width, pr)
				}
				png, err := p.Screenshot()
				if err != nil {
					t.Fatal(err)
				}
				file := filepath.Join(screenshotDir, fmt.Sprintf("%s-%s-%d.png", name, scheme, width))
				if err := os.WriteFile(file, png, 0o644); err != nil {
					t.Fatal(err)
				}
			}
		}
		if err := p.Emulate(1280, 800, "light"); err != nil {
			t.Fatal(err)
		}
	}
	sum := sha256.Sum256([]byte("verifier-verifier-verifier-verifier-verifier"))
	authorize := func(edit func(url.Values)) string {
		q := url.Values{"client_id": {harness.ClientID}, "redirect_uri": {e.SPA + "/redirect.html"}, "response_type": {"code"},
			"scope": {"openid User.Read api://todo/Todo.Read"}, "code_challenge": {base64.RawURLEncoding.EncodeToString(sum[:])},
			"code_challenge_method": {"S256"}, "state": {"s"}}
		if edit != nil {
			edit(q)
		}
		return e.IdP + "/" + harness.Domain + "/oauth2/v2.0/authorize?" + q.Encode()
	}
	// crossSiteLogout starts a logout from a page of another site (about:blank's opaque
	// origin): with no hint Sigil asks before signing out.
	crossSiteLogout := func() error {
		if err := p.Navigate("about:blank"); err != nil {
			return err
		}
		_, err := browser.Eval[bool](p, `location.href = `+strconv.Quote(e.IdP+"/"+harness.Domain+"/oauth2/v2.0/logout")+`; true`)
		return err
	}
	steps := []struct {
		name  string
		act   func() error
		ready string
	}{
		{"error", func() error {
			return p.Navigate(authorize(func(q url.Values) { q.Set("client_id", "99999999-8888-4777-8666-555555555555") }))
		}, "[data-error-code]"},
		{"sign-in", func() error { return p.Navigate(authorize(nil)) }, "input[name=username]"},
		{"sign-in-failed", func() error {
			if err := p.SetValue("input[name=username]", "alice@"+harness.Domain); err != nil {
				return err
			}
			if err := p.SetValue("input[name=password]", "not-the-password"); err != nil {
				return err
			}
			return p.Click("button[type=submit]")
		}, "[data-error-code]"},
		{"consent", func() error {
			if err := p.SetValue("input[name=password]", harness.Password); err != nil {
				return err
			}
			return p.Click("button[type=submit]")
		}, "button[name=consent][value=accept]"},
		{"account-picker", func() error {
			if err := p.Click("button[name=consent][value=accept]"); err != nil {
				return err
			}
			if _, err := p.WaitURL(func(u string) bool { return strings.HasPrefix(u, e.SPA) }, 20*time.Second); err != nil {
				return err
			}
			return p.Navigate(authorize(func(q url.Values) { q.Set("prompt", "select_account") }))
		}, "button[data-action=other-account]"},
		{"device-code", func() error { return p.Navigate(e.IdP + "/devicelogin") }, "input[name=user_code]"},
		{"device-code-wrong", func() error {
			if err := p.SetValue("input[name=user_code]", "BCDFGHJKL"); err != nil {
				return err
			}
			return p.Click("button[type=submit]")
		}, "[data-error-code]"},
		{"device-code-success", func() error { return deviceConsent(p, e, "openid api://todo/Todo.Read", "accept") },
			"[data-device-code-result=success]"},
		{"device-code-declined", func() error { return deviceConsent(p, e, "openid User.Read", "decline") },
			"[data-device-code-result=declined]"},
		{"sign-out-confirm", crossSiteLogout, "button[name=signout][value=confirm]"},
		{"sign-out-cancelled", func() error { return p.Click("button[name=signout][value=cancel]") }, "[data-still-signed-in]"},
		{"signed-out", func() error {
			if err := crossSiteLogout(); err != nil {
				return err
			}
			if err := p.WaitVisible("button[name=signout][value=confirm]", 20*time.Second); err != nil {
				return err
			}
			return p.Click("button[name=signout][value=confirm]")
		}, "[data-signed-out]"},
		{"landing", func() error { return p.Navigate(e.IdP + "/") }, "main dl"},
		{"tenant-landing", func() error { return p.Navigate(e.IdP + "/" + harness.Domain) }, "main dl"},
	}
	for _, s := range steps {
		if err := s.act(); err != nil {
			t.Fatalf("%s: %v", s.name, err)
		}
		t.Run(s.name, func(t *testing.T) { check(t, s.name, s.ready) })
	}
}

// deviceConsent starts a device authorization for scope, enters its code on the verification
// page in p (alice is signed in: the account picker follows), and answers the consent page.
func deviceConsent(p *browser.Page, e *harness.Env, scope, answer string) error {
	_, code := startDevice(e.T, e, scope)
	if err := p.Navigate(e.IdP + "/devicelogin?otc=" + code); err != nil {
		return err
	}
	for _, css := range []string{"button[type=submit]", `button[data-username="` + harness.Alice + `"]`,
		"button[name=consent][value=" + answer + "]"} {
		if err := p.Click(css); err != nil {
			return err
		}
	}
	return nil
}
