// Package graph is Sigil's admin API, shaped as Microsoft Graph v1.0 so that scripts and
// SDK calls written for Entra work against it: /v1.0/users (list with $top, $filter on
// userPrincipalName and @odata.nextLink paging, get, create, update, delete,
// passwordProfile) and /v1.0/users/{id}/revokeSignInSessions, with Graph's JSON shapes and
// Graph-shaped errors; /v1.0/applications (list, get, create, update redirect URIs,
// addPassword, removePassword) and /v1.0/servicePrincipals (list); /v1.0/groups (list, get, members, add and remove a member) and
// /v1.0/oauth2PermissionGrants (list, delete). It is served on the admin listener only (admin.listen), and every
// request needs a Sigil access token for the admin API (api://sigil-admin) obtained through
// client credentials, carrying the application permission the operation needs:
// User.ReadWrite.All to change users, Group.ReadWrite.All to change group members,
// Application.ReadWrite.All to withdraw consents, any of them or Directory.Read.All to read. A token acts in
// its own tenant (tid). The operations are package admin's; this package maps HTTP to them.
package graph

import (
	"encoding/json"
	"errors"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/sigil-idp/sigil/internal/admin"
	"github.com/sigil-idp/sigil/internal/bearer"
	"github.com/sigil-idp/sigil/internal/config"
	"github.com/sigil-idp/sigil/internal/tokens"
)

// API serves the admin API.
type API struct {
	Guard *bearer.Guard // audience api://sigil-admin
	Admin *admin.Admin
	// BaseURL is the admin listener's URL as clients reach it (for @odata.context and
	// @odata.nextLink), e.g. http://127.0.0.1:9464.
	BaseURL string
}

// Handler returns the admin API's URL map.
func (a *API) Handler() http.Handler {
	mux := http.NewServeMux()
	mux.Handle("/v1.0/users", a.Guard.Protect("GET, POST", a.op(map[string]operation{
		http.MethodGet: {read, a.listUsers}, http.MethodPost: {writeUsers, a.createUser}})))
	mux.Handle("/v1.0/users/{id}", a.Guard.Protect("GET, PATCH, DELETE", a.op(map[string]operation{
		http.MethodGet: {read, a.getUser}, http.MethodPatch: {writeUsers, a.updateUser}, http.MethodDelete: {writeUsers, a.deleteUser}})))
	mux.Handle("/v1.0/users/{id}/revokeSignInSessions", a.Guard.Protect("POST", a.op(map[string]operation{
		http.MethodPost: {writeUsers, a.revokeSessions}})))
	mux.Handle("/v1.0/applications", a.Guard.Protect("GET, POST", a.op(map[string]operation{
		http.MethodGet: {readApps, a.listApplications}, http.MethodPost: {writeApps, a.createApplication}})))
	mux.Handle("/v1.0/applications/{id}", a.Guard.Protect("GET, PATCH", a.op(map[string]operation{
		http.MethodGet: {readApps, a.getApplication}, http.MethodPatch: {writeApps, a.updateApplication}})))
	mux.Handle("/v1.0/applications/{id}/addPassword", a.Guard.Protect("POST", a.op(map[string]operation{
		http.MethodPost: {writeApps, a.addPassword}})))
	mux.Handle("/v1.0/applications/{id}/removePassword", a.Guard.Protect("POST", a.op(map[string]operation{
		http.MethodPost: {writeApps, a.removePassword}})))
	mux.Handle("/v1.0/servicePrincipals", a.Guard.Protect("GET", a.op(map[string]operation{
		http.MethodGet: {readApps, a.listServicePrincipals}})))
	mux.Handle("/v1.0/groups", a.Guard.Protect("GET", a.op(map[string]operation{http.MethodGet: {readGroups, a.listGroups}})))
	mux.Handle("/v1.0/groups/{id}", a.Guard.Protect("GET", a.op(map[string]operation{http.MethodGet: {readGroups, a.getGroup}})))
	mux.Handle("/v1.0/groups/{id}/members", a.Guard.Protect("GET", a.op(map[string]operation{
		http.MethodGet: {readGroups, a.listMembers}})))
	mux.Handle("/v1.0/groups/{id}/members/$ref", a.Guard.Protect("POST", a.op(map[string]operation{
		http.MethodPost: {writeGroups, a.addMember}})))
	mux.Handle("/v1.0/groups/{id}/members/{member}/$ref", a.Guard.Protect("DELETE", a.op(map[string]operation{
		http.MethodDelete: {writeGroups, a.removeMember}})))
	mux.Handle("/v1.0/oauth2PermissionGrants", a.Guard.Protect("GET", a.op(map[string]operation{
		http.MethodGet: {readGrants, a.listGrants}})))
	mux.Handle("/v1.0/oauth2PermissionGrants/{id}", a.Guard.Protect("DELETE", a.op(map[string]operation{
		http.MethodDelete: {writeGrants, a.deleteGrant}})))
	mux.HandleFunc("/v1.0/", func(w http.ResponseWriter, r *http.Request) {
		writeError(w, r, http.StatusBadRequest, "BadRequest", "Resource not found for the segment '"+
			strings.TrimPrefix(r.URL.Path, "/v1.0/")+"'.")
	})
	return mux
}

// Application permissions that allow an operation.
var (
	read       = []string{"User.ReadWrite.All", "Directory.Read.All"}
	writeUsers = []string{"User.ReadWrite.All"}
)

// operation is one method of a resource: the permissions that allow it, and its work, done
// in the token's tenant.
type operation struct {
	roles []string
	run   func(w http.ResponseWriter, r *http.Request, tenantID string) error
}

// op checks the token — an app-only token with one of the operation's permissions — and runs
// the operation, answering its error in Graph's shape.
func (a *API) op(ops map[string]operation) bearer.Handler {
	return func(w http.ResponseWriter, r *http.Request, c tokens.AccessClaims) {
		o := ops[r.Method]
		if c.Idtyp != "app" || !slices.ContainsFunc(o.roles, func(role string) bool { return slices.Contains(c.Roles, role) }) {
			writeError(w, r, http.StatusForbidden, "Authorization_RequestDenied",
				"Insufficient privileges to complete the operation. The app needs the application permission "+
					strings.Join(o.roles, " or ")+" of api://sigil-admin.")
			return
		}
		if err := o.run(w, r, c.TID); err != nil {
			var ge *graphError
			var ce *config.Error
			switch {
			case errors.As(err, &ge):
				writeError(w, r, ge.status, ge.code, ge.message)
			case errors.Is(err, admin.ErrNotFound):
				writeError(w, r, http.StatusNotFound, "Request_ResourceNotFound", err.Error())
			case errors.Is(err, admin.ErrExists):
				writeError(w, r, http.StatusBadRequest, "Request_BadRequest",
					"Another object with the same value for property userPrincipalName already exists.")
			case errors.As(err, &ce):
				writeError(w, r, http.StatusBadRequest, "Request_BadRequest", err.Error())
			default:
				writeError(w, r, http.StatusInternalServerError, "generalException", "An internal error occurred.")
			}
		}
	}
}

// graphError is an error with Graph's status and code.
type graphError struct {
	status        int
	code, message string
}

func (e *graphError) Error() string { return e.code + ": " + e.message }

func badRequest(msg string) error {
	return &graphError{status: http.StatusBadRequest, code: "Request_BadRequest", message: msg}
}

// writeError answers Graph's error shape: {"error": {"code", "message", "innerError": {…}}}.
func writeError(w http.ResponseWriter, r *http.Request, status int, code, message string) {
	inner := map[string]string{"date": time.Now().UTC().Format("2006-01-02T15:04:05"),
		"request-id": r.Header.Get("request-id"), "client-request-id": r.Header.Get("client-request-id")}
	bearer.WriteJSON(w, status, map[string]any{"error": map[string]any{"code": code, "message": message, "innerError": inner}})
}

// readJSON decodes a request body strictly; unknown properties are Graph's 400.
func readJSON(r *http.Request, v any) error {
	dec := json.NewDecoder(http.MaxBytesReader(nil, r.Body, 64<<10))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return badRequest("Invalid request body: " + err.Error())
	}
	return nil
}
