package e2e

import (
	"encoding/base64"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/sigil-idp/sigil/e2e/browser"
	"github.com/sigil-idp/sigil/e2e/harness"
	"github.com/sigil-idp/sigil/internal/config"
)

// TestES256API: with the Todo API's signingAlg ES256, msal-browser 5 gets an access token
// for it signed ES256 (header alg ES256 and a kid: the P-256 key's) and
// calls examples/todo-api, whose apiauth verifier — default settings, keys from the JWKS —
// accepts it.
func TestES256API(t *testing.T) {
	e := harness.Start(t, harness.Options{Edit: func(c *config.Config) {
		c.Tenants[0].APIs[0].SigningAlg = config.SigningAlgES256
	}})
	apiURL, _ := startTodoAPI(t, e)
	p := e.OpenApp("msal5.html")
	mustSucceed(t, "loginPopup", e.WithPopup(p, `t.loginPopup(["api://todo/Todo.Read"])`, harness.Alice))
	r, err := browser.EvalTimeout[protectedCall](p, "t.callProtected("+jsString(apiURL+"/todos")+`, ["api://todo/Todo.Read"], "GET")`, 30*time.Second)
	if err != nil {
		t.Fatalf("GET /todos: %v", err)
	}
	if r.Status != 200 || r.Challenged || r.Body["user"] == nil {
		t.Fatalf("GET /todos with an ES256 token: %+v", r)
	}
	b, err := base64.RawURLEncoding.DecodeString(strings.Split(r.AccessToken, ".")[0])
	var h map[string]string
	if err != nil || json.Unmarshal(b, &h) != nil || h["alg"] != "ES256" || h["kid"] == "" {
		t.Fatalf("access token header %s (%v), want alg ES256 and a kid", b, err)
	}
}
