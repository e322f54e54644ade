package protocol

import (
	"context"
	"errors"
	"net/http"
	"strconv"

	"github.com/sigil-idp/sigil/internal/session"
	"github.com/sigil-idp/sigil/internal/store"
	"github.com/sigil-idp/sigil/internal/web"
)

// The device code verification page (RFC 8628 §3.3). The user enters the code the device
// shows; a valid one starts the normal sign-in — account picker or sign-in form, then
// consent — for an authorization request built from the device authorization, whose
// delivery is a device reply: where another request would get a code, the device
// authorization is approved with the grant (issue.go), and a decline or an error marks it
// declined. The pages' sealed interaction carries the request as for any other.

// deviceReply is the delivery of a sign-in started on the verification page: the device
// authorization it decides, by the hash of its device code.
type deviceReply struct {
	Hash    string `json:"hash"`
	AppName string `json:"app_name"` // for the declined page
}

// deviceLoginPage answers GET /devicelogin: the code form, pre-filled from ?otc= as on
// Entra's page (a link that carries the code, like RFC 8628's verification_uri_complete).
func (s *Server) deviceLoginPage(w http.ResponseWriter, r *http.Request) {
	page := web.DeviceLoginPage{XSRF: session.XSRF(w, r)}
	if code, ok := normalizeUserCode(r.URL.Query().Get("otc")); ok {
		page.UserCode = code
	}
	s.pages.DeviceLogin(w, http.StatusOK, page)
}

// deviceLogin answers POST /-/devicelogin. Each code entered is reserved under the client
// address's user-code throttle key first (throttle.go), and wrong codes count against it, so
// codes cannot be guessed at the speed of the endpoint nor by many requests at once; a right
// one is claimed once, in one conditional statement: a code works a single time.
func (s *Server) deviceLogin(w http.ResponseWriter, r *http.Request) {
	r.Body = http.MaxBytesReader(w, r.Body, maxBody)
	if err := r.ParseForm(); err != nil {
		s.failPage(w, r, "devicelogin", errMalformed.new("the form could not be read").because(err))
		return
	}
	form := r.PostForm
	if _, ok := session.CheckXSRF(r, form.Get("xsrf")); !ok {
		s.failPage(w, r, "devicelogin", errForgedForm.new())
		return
	}
	ctx, now := r.Context(), s.now()
	typed := truncate(form.Get("user_code"), 64)
	again := func(e *Error) {
		s.logError(ctx, "devicelogin", e)
		s.pages.DeviceLogin(w, e.Status, web.DeviceLoginPage{XSRF: form.Get("xsrf"), UserCode: typed,
			ErrorCode: "AADSTS" + strconv.Itoa(e.AADSTS), ErrorMessage: e.Description})
	}
	res, err := s.reserve(ctx, throttleKey{"usercode:" + throttleAddress(s.clientAddress(r)), s.throttle.Address,
		errAddressLocked.new()})
	var pe *Error
	switch {
	case errors.As(err, &pe) && pe.Status < http.StatusInternalServerError:
		again(pe)
		return
	case err != nil:
		s.failPage(w, r, "devicelogin", err)
		return
	}
	var d store.DeviceCode
	code, ok := normalizeUserCode(form.Get("user_code"))
	if ok {
		d, err = s.store.EnterUserCode(ctx, s.userCodeHash(code), now)
	}
	if !ok || errors.Is(err, store.ErrNotFound) {
		if err := res.fail(ctx); err != nil {
			s.failPage(w, r, "devicelogin", err)
			return
		}
		again(errBadUserCode.new())
		return
	}
	res.release(ctx)
	if err != nil {
		s.failPage(w, r, "devicelogin", err)
		return
	}
	f, err := s.deviceFlow(ctx, d)
	if err != nil {
		s.deliverDeviceError(w, r, deviceReply{Hash: d.Hash}, err)
		return
	}
	s.proceed(w, r, f)
}

// deviceFlow builds the authorization request a device authorization stands for: its
// client, tenant, scopes and claims, with the account picker first (the user sees which
// account the device gets), delivered as a device reply.
func (s *Server) deviceFlow(ctx context.Context, d store.DeviceCode) (*flow, error) {
	t, err := s.resolveTenant(ctx, d.Tenant)
	if err != nil {
		return nil, err
	}
	app, err := s.appFor(ctx, t, d.Grant.ClientID)
	if err != nil {
		return nil, err
	}
	req := authRequest{Tenant: t.segment, ClientID: app.ClientID, Platform: devicePlatform(app), Scope: d.Scope,
		Prompt: "select_account", MaxAge: -1, Claims: d.Grant.Claims, Reply: delivery{Device: &deviceReply{Hash: d.Hash, AppName: app.DisplayName}}}
	return &flow{req: req, app: app, tenant: t}, nil
}

// approveDevice is a device reply's success: the device authorization gets the grant, in
// one conditional statement (it must still be pending and unexpired), and the user sees
// that the device is signed in.
func (s *Server) approveDevice(w http.ResponseWriter, r *http.Request, f *flow, grant store.Grant) {
	err := s.store.ApproveDeviceCode(r.Context(), f.req.Reply.Device.Hash, grant, s.now())
	switch {
	case errors.Is(err, store.ErrNotFound):
		s.failPage(w, r, "devicelogin", errDeviceCodeGone.new().because(err))
	case err != nil:
		s.failPage(w, r, "devicelogin", err)
	default:
		s.pages.DeviceResult(w, web.DeviceResultPage{Success: true, AppName: f.app.DisplayName})
	}
}

// deliverDeviceError is a device reply's error: the device authorization is declined (the
// device stops polling with authorization_declined) unless the fault is ours, and the user
// sees the declined page for a declined consent, the error page otherwise.
func (s *Server) deliverDeviceError(w http.ResponseWriter, r *http.Request, d deviceReply, err error) {
	e := asError(err)
	if e.Status < http.StatusInternalServerError {
		if derr := s.store.DeclineDeviceCode(r.Context(), d.Hash, s.now()); derr != nil && !errors.Is(derr, store.ErrNotFound) {
			s.failPage(w, r, "devicelogin", derr)
			return
		}
	}
	if e.AADSTS != errDeclined.aadsts || e.Code != errDeclined.code {
		s.failPage(w, r, "devicelogin", e)
		return
	}
	s.logError(r.Context(), "devicelogin", e)
	s.pages.DeviceResult(w, web.DeviceResultPage{AppName: d.AppName})
}
