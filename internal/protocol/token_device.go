package protocol

import (
	"context"
	"errors"
	"time"

	"github.com/sigil-idp/sigil/internal/store"
	"github.com/sigil-idp/sigil/internal/tokens"
)

// deviceCodeGrant answers a device's poll (RFC 8628 §3.4, §3.5). Each poll is recorded in one
// conditional statement that also decides whether it came too soon after the last one
// (slow_down, with devicePollGrace for jitter). Then, in order: a device code of another client is invalid_grant, an expired
// one expired_token, a pending one authorization_pending, a declined one
// authorization_declined; an approved one is redeemed — once, in one conditional statement —
// for tokens minted from the grant the user approved, with a new refresh-token family (from
// no code) when offline_access was granted.
func (s *Server) deviceCodeGrant(ctx context.Context, tr *tokenRequest) (*tokenResponse, error) {
	code := tr.p.get("device_code")
	if code == "" {
		return nil, errMissingParam.new("device_code")
	}
	now := s.now()
	hash := tokens.Hash(code)
	d, recorded, err := s.store.PollDeviceCode(ctx, hash, now, devicePollInterval-devicePollGrace)
	switch {
	case errors.Is(err, store.ErrNotFound):
		return nil, errBadDeviceCode.new("")
	case err != nil:
		return nil, err
	case d.Grant.ClientID != tr.app.ClientID:
		return nil, errBadDeviceCode.new(": it was issued to another application")
	case !now.Before(d.ExpiresAt):
		return nil, errDeviceExpired.new()
	case !recorded:
		return nil, errDeviceSlowDown.new(int(devicePollInterval / time.Second))
	}
	switch d.Status {
	case store.DevicePending:
		return nil, errDevicePending.new()
	case store.DeviceDeclined:
		return nil, errDeviceDeclined.new()
	case store.DeviceRedeemed:
		return nil, errDeviceRedeemed.new()
	}
	if !tr.tenant.admits(d.Grant.TenantID) {
		return nil, errBadDeviceCode.new(": the user signed in to another tenant")
	}
	if err := checkPlatform(tr, d.Grant.Platform); err != nil {
		return nil, err
	}
	d, err = s.store.RedeemDeviceCode(ctx, hash, now)
	switch {
	case errors.Is(err, store.ErrRedeemed):
		return nil, errDeviceRedeemed.new().because(err)
	case errors.Is(err, store.ErrNotFound):
		return nil, errDeviceExpired.new().because(err)
	case err != nil:
		return nil, err
	}
	claims, err := tr.claimsFor(d.Grant)
	if err != nil {
		return nil, err
	}
	return s.mint(ctx, mintRequest{app: tr.app, authn: tr.authn, grant: d.Grant, claims: claims, ipaddr: tr.addr,
		newFamily: true, now: now})
}
