package e2e

import (
	"crypto/sha256"
	"encoding/base64"
	"fmt"
	"net/url"
	"testing"
	"time"

	"github.com/sigil-idp/sigil/e2e/browser"
	"github.com/sigil-idp/sigil/e2e/harness"
)

// pageLook is how Sigil's sign-in page renders: the card's width and the viewport's, the
// document's scroll width, and the relative luminance of the card's background and text.
type pageLook struct {
	Card, Viewport, Scroll float64
	CardLum, TextLum       float64
}

// lookJS measures the sign-in page (WCAG relative luminance from the computed colors).
const lookJS = `(() => {
	const lum = (css) => {
		const [r, g, b] = css.match(/[\d.]+/g).slice(0, 3).map(Number).map((v) => {
			v /= 255; return v <= 0.03928 ? v / 12.92 : Math.pow((v + 0.055) / 1.055, 2.4); });
		return 0.2126 * r + 0.7152 * g + 0.0722 * b;
	};
	const card = document.querySelector(".card"), h1 = card.querySelector("h1") || card;
	return {card: card.getBoundingClientRect().width, viewport: window.innerWidth,
		scroll: document.documentElement.scrollWidth,
		cardLum: lum(getComputedStyle(card).backgroundColor), textLum: lum(getComputedStyle(h1).color)};
})()`

// TestSignInPageFitsAndReads renders Sigil's sign-in page on a 375-pixel phone, in MSAL's
// 483-pixel popup and on a desktop, in the light and the dark color scheme: the card never
// overflows the viewport, and its text contrasts with its own background (WCAG ≥ 4.5).
func TestSignInPageFitsAndReads(t *testing.T) {
	e := harness.Start(t, harness.Options{})
	sum := sha256.Sum256([]byte("verifier-verifier-verifier-verifier-verifier"))
	q := url.Values{"client_id": {harness.ClientID}, "redirect_uri": {e.SPA + "/redirect.html"}, "response_type": {"code"},
		"scope": {"openid User.Read"}, "code_challenge": {base64.RawURLEncoding.EncodeToString(sum[:])},
		"code_challenge_method": {"S256"}, "state": {"s"}}
	signIn := e.IdP + "/" + harness.Domain + "/oauth2/v2.0/authorize?" + q.Encode()
	p, err := e.Browser.NewPage()
	if err != nil {
		t.Fatal(err)
	}
	for _, scheme := range []string{"light", "dark"} {
		for _, width := range []int{375, 483, 1280} {
			t.Run(fmt.Sprintf("%s/%d", scheme, width), func(t *testing.T) {
				if err := p.Emulate(width, 800, scheme); err != nil {
					t.Fatal(err)
				}
				if err := p.Navigate(signIn); err != nil {
					t.Fatal(err)
				}
				if err := p.WaitVisible("input[name=username]", 20*time.Second); err != nil {
					t.Fatal(err)
				}
				l, err := browser.Eval[pageLook](p, lookJS)
				if err != nil {
					t.Fatal(err)
				}
				if l.Card > l.Viewport || l.Scroll > l.Viewport {
					t.Errorf("card %.0f px, document %.0f px wide in a %.0f px viewport", l.Card, l.Scroll, l.Viewport)
				}
				hi, lo := max(l.CardLum, l.TextLum), min(l.CardLum, l.TextLum)
				if contrast := (hi + 0.05) / (lo + 0.05); contrast < 4.5 {
					t.Errorf("text on the card has contrast %.2f (card luminance %.2f, text %.2f), want ≥ 4.5", contrast, l.CardLum, l.TextLum)
				}
			})
		}
	}
}
