package protocol_test

import (
	"database/sql"
	"net/http"
	"net/url"
	"path/filepath"
	"strings"
	"testing"
	"time"

	_ "modernc.org/sqlite"
)

// rowCounts counts the rows of every table of the env's SQLite database.
func (e *env) rowCounts(tb testing.TB) map[string]int {
	tb.Helper()
	db, err := sql.Open("sqlite", filepath.Join(e.data, "sigil.db"))
	if err != nil {
		tb.Fatal(err)
	}
	defer db.Close()
	rows, err := db.Query(`SELECT name FROM sqlite_master WHERE type = 'table'`)
	if err != nil {
		tb.Fatal(err)
	}
	var tables []string
	for rows.Next() {
		var n string
		rows.Scan(&n)
		tables = append(tables, n)
	}
	rows.Close()
	counts := map[string]int{}
	for _, table := range tables {
		var n int
		if err := db.QueryRow(`SELECT COUNT(*) FROM "` + table + `"`).Scan(&n); err != nil {
			tb.Fatal(err)
		}
		counts[table] = n
	}
	return counts
}

// TestAnonymousAuthorizeStoresNothing: a cookie-less browser's authorization requests show
// the sign-in page and write no row — the pending interaction travels sealed in the form.
func TestAnonymousAuthorizeStoresNothing(t *testing.T) {
	e := newEnv(t, nil)
	_, challenge := pkce()
	before := e.rowCounts(t)
	for range 50 {
		resp, body := e.get(e.newBrowser(), e.authorizeURL("contoso.test", spaParams(challenge, "openid User.Read")))
		if resp.StatusCode != http.StatusOK || !isLoginPage(body) {
			t.Fatalf("status %d, want the sign-in page", resp.StatusCode)
		}
	}
	after := e.rowCounts(t)
	for table, n := range after {
		if n != before[table] {
			t.Errorf("table %s: %d rows before 50 anonymous authorize requests, %d after", table, before[table], n)
		}
	}
}

// TestSealedInteraction: the sign-in form's interaction is bound to its browser, cannot be
// altered, expires, and its final form gets one answer only.
func TestSealedInteraction(t *testing.T) {
	e := newEnv(t, nil)
	_, challenge := pkce()
	page := func(c *http.Client) url.Values {
		t.Helper()
		_, body := e.get(c, e.authorizeURL("contoso.test", spaParams(challenge, "openid User.Read")))
		f := hiddenFields(body)
		if f.Get("ir") == "" {
			t.Fatalf("no sign-in form: %s", body)
		}
		return f
	}
	t.Run("tampered", func(t *testing.T) {
		c := e.newBrowser()
		f := page(c)
		ir := []byte(f.Get("ir"))
		ir[len(ir)/2] ^= 1
		f.Set("ir", string(ir))
		resp, body := e.submitLogin(c, f, alice, pw, false)
		wantErrorPage(t, resp, body, 400, "AADSTS50089")
	})
	t.Run("another browser", func(t *testing.T) {
		f := page(e.newBrowser())
		other := e.newBrowser()
		g := page(other) // the other browser's own anti-forgery cookie and value
		f.Set("xsrf", g.Get("xsrf"))
		resp, body := e.submitLogin(other, f, alice, pw, false)
		wantErrorPage(t, resp, body, 400, "AADSTS90014")
	})
	t.Run("expired", func(t *testing.T) {
		c := e.newBrowser()
		f := page(c)
		e.clock.Advance(31 * time.Minute)
		resp, body := e.submitLogin(c, f, alice, pw, false)
		wantErrorPage(t, resp, body, 400, "AADSTS50089")
	})
	t.Run("final form twice", func(t *testing.T) {
		c := e.newBrowser()
		resp, body := e.submitLogin(c, page(c), alice, pw, false)
		if !isConsentPage(body) {
			t.Fatalf("want the consent page, got %d: %s", resp.StatusCode, body)
		}
		f := hiddenFields(body)
		f.Set("consent", "accept")
		f.Add("scope", "user.read")
		first, _ := e.postForm(c, e.url+"/-/consent", f, nil)
		if first.StatusCode != http.StatusFound || !strings.Contains(first.Header.Get("Location"), "code=") {
			t.Fatalf("first submission: %d %s", first.StatusCode, first.Header.Get("Location"))
		}
		again, body := e.postForm(c, e.url+"/-/consent", f, nil)
		if again.StatusCode == http.StatusFound {
			v := responseParams(t, again)
			if v.Get("code") != "" {
				t.Fatal("the same consent form got a second code")
			}
			if !strings.Contains(v.Get("error_description"), "AADSTS50089") {
				t.Fatalf("second submission: %v", v)
			}
			return
		}
		wantErrorPage(t, again, body, 400, "AADSTS50089")
	})
}
