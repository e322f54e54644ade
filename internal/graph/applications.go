package graph

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/sigil-idp/sigil/internal/bearer"
	"github.com/sigil-idp/sigil/internal/config"
	"github.com/sigil-idp/sigil/internal/directory"
	"github.com/sigil-idp/sigil/internal/tokens"
)

// Application permissions of the application endpoints.
var (
	readApps  = []string{"Application.ReadWrite.All", "Directory.Read.All"}
	writeApps = []string{"Application.ReadWrite.All"}
)

// platform is Graph's spa, web and publicClient objects of an application.
type platform struct {
	RedirectURIs []string `json:"redirectUris"`
}

// passwordCredential is Graph's; Sigil keeps only a secret's hash, so keyId and hint derive
// from it, and secrets do not expire.
type passwordCredential struct {
	KeyID         string  `json:"keyId"`
	DisplayName   *string `json:"displayName"`
	Hint          string  `json:"hint,omitempty"`
	SecretText    *string `json:"secretText"` // only in addPassword's answer
	StartDateTime *string `json:"startDateTime"`
	EndDateTime   *string `json:"endDateTime"`
}

// application is Graph's application resource, the properties Sigil keeps.
type application struct {
	ODataContext        string               `json:"@odata.context,omitempty"`
	ID                  string               `json:"id"`
	AppID               string               `json:"appId"`
	DisplayName         string               `json:"displayName"`
	SignInAudience      string               `json:"signInAudience"`
	SPA                 platform             `json:"spa"`
	Web                 platform             `json:"web"`
	PublicClient        platform             `json:"publicClient"`
	PasswordCredentials []passwordCredential `json:"passwordCredentials"`
}

// objectID is an application's object id: like Graph's, distinct from its appId (client id).
func objectID(tenantID, clientID string) string {
	sum := sha256.Sum256([]byte("sigil application\x00" + strings.ToLower(tenantID) + "\x00" + strings.ToLower(clientID)))
	sum[6], sum[8] = sum[6]&0x0f|0x80, sum[8]&0x3f|0x80
	return fmt.Sprintf("%x-%x-%x-%x-%x", sum[0:4], sum[4:6], sum[6:8], sum[8:10], sum[10:16])
}

// keyID derives a password credential's keyId from the secret's stored hash.
func keyID(hash string) string {
	sum := sha256.Sum256([]byte("sigil secret\x00" + hash))
	return fmt.Sprintf("%x-%x-%x-%x-%x", sum[0:4], sum[4:6], sum[6:8], sum[8:10], sum[10:16])
}

func toApplication(a directory.App) application {
	out := application{ID: objectID(a.TenantID, a.ClientID), AppID: a.ClientID, DisplayName: a.DisplayName,
		SignInAudience: "AzureADMyOrg", SPA: platform{[]string{}}, Web: platform{[]string{}}, PublicClient: platform{[]string{}},
		PasswordCredentials: []passwordCredential{}}
	if a.SignInAudience == directory.AudienceAnyTenant {
		out.SignInAudience = "AzureADMultipleOrgs"
	}
	for _, u := range a.RedirectURIs {
		switch u.Platform {
		case directory.PlatformSPA:
			out.SPA.RedirectURIs = append(out.SPA.RedirectURIs, u.URI)
		case directory.PlatformWeb:
			out.Web.RedirectURIs = append(out.Web.RedirectURIs, u.URI)
		case directory.PlatformPublicClient:
			out.PublicClient.RedirectURIs = append(out.PublicClient.RedirectURIs, u.URI)
		}
	}
	for _, h := range a.SecretHashes {
		out.PasswordCredentials = append(out.PasswordCredentials, passwordCredential{KeyID: keyID(h)})
	}
	return out
}

// appInTenant returns the application the path names — by object id or appId — in the
// token's tenant.
func (a *API) appInTenant(r *http.Request, tenantID string) (directory.App, error) {
	ref := strings.ToLower(r.PathValue("id"))
	ids, err := a.Admin.Store.AppIDs(r.Context(), tenantID)
	if err != nil {
		return directory.App{}, err
	}
	for _, id := range ids {
		if id == ref || objectID(tenantID, id) == ref {
			return a.Admin.Store.AppByClientID(r.Context(), id)
		}
	}
	return directory.App{}, &graphError{status: http.StatusNotFound, code: "Request_ResourceNotFound",
		message: "Resource '" + r.PathValue("id") + "' does not exist or one of its queried reference-property objects are not present."}
}

// listApplications answers GET /v1.0/applications.
func (a *API) listApplications(w http.ResponseWriter, r *http.Request, tenantID string) error {
	apps, err := a.Admin.Apps(r.Context(), tenantID)
	if err != nil {
		return err
	}
	value := make([]application, 0, len(apps))
	for _, app := range apps {
		value = append(value, toApplication(app))
	}
	bearer.WriteJSON(w, http.StatusOK, map[string]any{"@odata.context": a.BaseURL + "/v1.0/$metadata#applications", "value": value})
	return nil
}

// getApplication answers GET /v1.0/applications/{id}.
func (a *API) getApplication(w http.ResponseWriter, r *http.Request, tenantID string) error {
	app, err := a.appInTenant(r, tenantID)
	if err != nil {
		return err
	}
	out := toApplication(app)
	out.ODataContext = a.BaseURL + "/v1.0/$metadata#applications/$entity"
	bearer.WriteJSON(w, http.StatusOK, out)
	return nil
}

// applicationInput is an application as create and update take it.
type applicationInput struct {
	DisplayName    *string   `json:"displayName"`
	SignInAudience *string   `json:"signInAudience"`
	SPA            *platform `json:"spa"`
	Web            *platform `json:"web"`
	PublicClient   *platform `json:"publicClient"`
}

// apply sets the given properties on app, checking redirect URIs as the file's are.
func (in applicationInput) apply(app *directory.App) error {
	if in.DisplayName != nil {
		app.DisplayName = *in.DisplayName
	}
	if in.SignInAudience != nil {
		switch *in.SignInAudience {
		case "AzureADMyOrg":
			app.SignInAudience = directory.AudienceThisTenant
		case "AzureADMultipleOrgs":
			app.SignInAudience = directory.AudienceAnyTenant
		default:
			return badRequest("signInAudience must be AzureADMyOrg or AzureADMultipleOrgs.")
		}
	}
	for _, p := range []struct {
		in       *platform
		platform directory.Platform
	}{{in.SPA, directory.PlatformSPA}, {in.Web, directory.PlatformWeb}, {in.PublicClient, directory.PlatformPublicClient}} {
		if p.in == nil {
			continue
		}
		app.RedirectURIs = slices.DeleteFunc(app.RedirectURIs, func(u directory.RedirectURI) bool { return u.Platform == p.platform })
		for _, u := range p.in.RedirectURIs {
			if msg := config.CheckRedirectURI(u); msg != "" {
				return badRequest(fmt.Sprintf("Invalid redirect URI %q: %s.", u, msg))
			}
			app.RedirectURIs = append(app.RedirectURIs, directory.RedirectURI{URI: u, Platform: p.platform})
		}
	}
	return nil
}

// createApplication answers POST /v1.0/applications: a registration with a new appId in the
// token's tenant. The bootstrap file leaves it alone.
func (a *API) createApplication(w http.ResponseWriter, r *http.Request, tenantID string) error {
	var in applicationInput
	if err := readJSON(r, &in); err != nil {
		return err
	}
	if in.DisplayName == nil || *in.DisplayName == "" {
		return badRequest("Property 'displayName' is required.")
	}
	app := directory.App{ClientID: newGUID(), TenantID: tenantID, SignInAudience: directory.AudienceThisTenant,
		Consent: directory.ConsentUser}
	if err := in.apply(&app); err != nil {
		return err
	}
	if err := a.Admin.Store.UpsertApp(r.Context(), app); err != nil {
		return err
	}
	a.Admin.Audit(r.Context(), "application.add", "tenant_id", tenantID, "client_id", app.ClientID)
	out := toApplication(app)
	out.ODataContext = a.BaseURL + "/v1.0/$metadata#applications/$entity"
	w.Header().Set("Location", a.BaseURL+"/v1.0/applications/"+out.ID)
	bearer.WriteJSON(w, http.StatusCreated, out)
	return nil
}

// updateApplication answers PATCH /v1.0/applications/{id}: displayName, signInAudience and
// each platform's redirectUris (a platform given replaces its list), in one store transaction.
func (a *API) updateApplication(w http.ResponseWriter, r *http.Request, tenantID string) error {
	app, err := a.appInTenant(r, tenantID)
	if err != nil {
		return err
	}
	var in applicationInput
	if err := readJSON(r, &in); err != nil {
		return err
	}
	if err := in.apply(&app); err != nil {
		return err
	}
	if err := a.Admin.Store.UpsertApp(r.Context(), app); err != nil {
		return err
	}
	a.Admin.Audit(r.Context(), "application.update", "tenant_id", tenantID, "client_id", app.ClientID)
	w.WriteHeader(http.StatusNoContent)
	return nil
}

// addPassword answers POST /v1.0/applications/{id}/addPassword: a new client secret, returned
// once in secretText; only its hash is kept.
func (a *API) addPassword(w http.ResponseWriter, r *http.Request, tenantID string) error {
	app, err := a.appInTenant(r, tenantID)
	if err != nil {
		return err
	}
	var in struct {
		PasswordCredential *struct {
			DisplayName *string `json:"displayName"`
		} `json:"passwordCredential"`
	}
	if r.ContentLength != 0 {
		if err := readJSON(r, &in); err != nil {
			return err
		}
	}
	raw := make([]byte, 30)
	rand.Read(raw)
	secret := strings.ReplaceAll(base64.RawURLEncoding.EncodeToString(raw), "-", "~")
	hash := tokens.Hash(secret)
	app.SecretHashes = append(app.SecretHashes, hash)
	if err := a.Admin.Store.UpsertApp(r.Context(), app); err != nil {
		return err
	}
	a.Admin.Audit(r.Context(), "application.add_password", "tenant_id", tenantID, "client_id", app.ClientID, "key_id", keyID(hash))
	start := time.Now().UTC().Format(time.RFC3339)
	out := passwordCredential{KeyID: keyID(hash), Hint: secret[:3], SecretText: &secret, StartDateTime: &start}
	if in.PasswordCredential != nil {
		out.DisplayName = in.PasswordCredential.DisplayName
	}
	bearer.WriteJSON(w, http.StatusOK, out)
	return nil
}

// removePassword answers POST /v1.0/applications/{id}/removePassword {"keyId"}.
func (a *API) removePassword(w http.ResponseWriter, r *http.Request, tenantID string) error {
	app, err := a.appInTenant(r, tenantID)
	if err != nil {
		return err
	}
	var in struct {
		KeyID string `json:"keyId"`
	}
	if err := readJSON(r, &in); err != nil {
		return err
	}
	n := len(app.SecretHashes)
	app.SecretHashes = slices.DeleteFunc(app.SecretHashes, func(h string) bool { return keyID(h) == strings.ToLower(in.KeyID) })
	if len(app.SecretHashes) == n {
		return badRequest("No password credential with keyId " + in.KeyID + ".")
	}
	if err := a.Admin.Store.UpsertApp(r.Context(), app); err != nil {
		return err
	}
	a.Admin.Audit(r.Context(), "application.remove_password", "tenant_id", tenantID, "client_id", app.ClientID, "key_id", in.KeyID)
	w.WriteHeader(http.StatusNoContent)
	return nil
}

// listServicePrincipals answers GET /v1.0/servicePrincipals: one per app of the tenant, its id
// the sub and oid of the app's client-credentials tokens.
func (a *API) listServicePrincipals(w http.ResponseWriter, r *http.Request, tenantID string) error {
	apps, err := a.Admin.Apps(r.Context(), tenantID)
	if err != nil {
		return err
	}
	value := make([]map[string]any, 0, len(apps))
	for _, app := range apps {
		value = append(value, map[string]any{"id": directory.ServicePrincipalID(tenantID, app.ClientID), "appId": app.ClientID,
			"displayName": app.DisplayName, "servicePrincipalType": "Application", "accountEnabled": true})
	}
	bearer.WriteJSON(w, http.StatusOK, map[string]any{"@odata.context": a.BaseURL + "/v1.0/$metadata#servicePrincipals", "value": value})
	return nil
}

// newGUID is a random version 4 GUID.
func newGUID() string {
	b := make([]byte, 16)
	rand.Read(b)
	b[6], b[8] = b[6]&0x0f|0x40, b[8]&0x3f|0x80
	return fmt.Sprintf("%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:16])
}
