package main

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strings"
)

// The dex side of the comparison: bench/dex/*.yaml run dex with static users user0…user63 and
// a confidential client. dex keeps one refresh token per user, connector and client, so each
// worker signs in as its own user (the password grant) and then refreshes its chain, the
// client authenticating with HTTP Basic as dex's own clients do. -base is dex's issuer
// (http://127.0.0.1:5556/dex).

const (
	dexClient   = "bench-conf"
	dexSecret   = "bench-secret"
	dexPassword = "benchpass"
)

func (w *worker) dexPrepare() error {
	return w.dexToken(url.Values{"grant_type": {"password"}, "username": {fmt.Sprintf("user%d@example.com", w.id)},
		"password": {dexPassword}, "scope": {"openid email offline_access"}})
}

func (w *worker) dexRefresh() error {
	return w.dexToken(url.Values{"grant_type": {"refresh_token"}, "refresh_token": {w.rt}})
}

func (w *worker) dexToken(form url.Values) error {
	req, _ := http.NewRequest(http.MethodPost, w.o.base+"/token", strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.SetBasicAuth(dexClient, dexSecret)
	resp, err := w.client.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	var out struct {
		IDToken      string `json:"id_token"`
		RefreshToken string `json:"refresh_token"`
		Error        string `json:"error_description"`
	}
	json.NewDecoder(resp.Body).Decode(&out)
	if resp.StatusCode != http.StatusOK || out.RefreshToken == "" || out.IDToken == "" {
		return fmt.Errorf("dex token: %s %s", resp.Status, out.Error)
	}
	w.rt = out.RefreshToken
	return nil
}
