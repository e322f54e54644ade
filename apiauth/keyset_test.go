package apiauth

import (
	"context"
	"crypto/rsa"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	jose "github.com/go-jose/go-jose/v4"
)

// jwksServer serves a key set that the test can change or make fail, counting requests.
type jwksServer struct {
	*httptest.Server
	mu       sync.Mutex
	body     []byte
	status   int
	requests atomic.Int32
}

func newJWKSServer(tb testing.TB, keys map[string]*rsa.PublicKey) *jwksServer {
	tb.Helper()
	s := &jwksServer{status: http.StatusOK}
	s.setKeys(keys)
	s.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s.requests.Add(1)
		s.mu.Lock()
		defer s.mu.Unlock()
		w.WriteHeader(s.status)
		w.Write(s.body)
	}))
	tb.Cleanup(s.Close)
	return s
}

func (s *jwksServer) setKeys(keys map[string]*rsa.PublicKey) {
	var set jose.JSONWebKeySet
	for kid, k := range keys {
		set.Keys = append(set.Keys, jose.JSONWebKey{Key: k, KeyID: kid, Algorithm: "RS256", Use: "sig"})
	}
	b, _ := json.Marshal(set)
	s.mu.Lock()
	s.body = b
	s.mu.Unlock()
}

func (s *jwksServer) setStatus(code int) {
	s.mu.Lock()
	s.status = code
	s.mu.Unlock()
}

// clock is a settable test clock.
type clock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *clock) advance(d time.Duration) {
	c.mu.Lock()
	c.now = c.now.Add(d)
	c.mu.Unlock()
}

func TestRemoteKeySetCaches(t *testing.T) {
	key := rsaKey(t)
	srv := newJWKSServer(t, map[string]*rsa.PublicKey{testKID: &key.PublicKey})
	clk := &clock{now: testNow}
	ks := &RemoteKeySet{URL: srv.URL, Client: srv.Client(), Now: clk.Now, TTL: time.Hour, RefetchInterval: time.Minute}
	ctx := context.Background()
	for range 3 {
		if _, err := ks.Key(ctx, testKID); err != nil {
			t.Fatal(err)
		}
	}
	if got := srv.requests.Load(); got != 1 {
		t.Fatalf("three lookups within the TTL: got %d requests, want 1", got)
	}
	clk.advance(time.Hour)
	if _, err := ks.Key(ctx, testKID); err != nil {
		t.Fatal(err)
	}
	if got := srv.requests.Load(); got != 2 {
		t.Fatalf("after the TTL: got %d requests, want 2", got)
	}
}

func TestRemoteKeySetUnknownKidRateLimited(t *testing.T) {
	key := rsaKey(t)
	srv := newJWKSServer(t, map[string]*rsa.PublicKey{testKID: &key.PublicKey})
	clk := &clock{now: testNow}
	ks := &RemoteKeySet{URL: srv.URL, Client: srv.Client(), Now: clk.Now, TTL: time.Hour, RefetchInterval: time.Minute}
	ctx := context.Background()
	if _, err := ks.Key(ctx, testKID); err != nil {
		t.Fatal(err)
	}
	clk.advance(2 * time.Minute)
	for i := range 50 {
		if _, err := ks.Key(ctx, "made-up-"+string(rune('a'+i%26))); !errors.Is(err, ErrUnknownKey) {
			t.Fatalf("got %v, want ErrUnknownKey", err)
		}
	}
	if got := srv.requests.Load(); got != 2 {
		t.Fatalf("50 unknown kids within one interval: got %d requests, want 2 (the first fetch and one refetch)", got)
	}
	// A rotated key appears: found on the first unknown-kid lookup after the interval.
	srv.setKeys(map[string]*rsa.PublicKey{testKID: &key.PublicKey, "key-2": &key.PublicKey})
	if _, err := ks.Key(ctx, "key-2"); !errors.Is(err, ErrUnknownKey) {
		t.Fatalf("within the interval: got %v, want ErrUnknownKey", err)
	}
	clk.advance(time.Minute)
	if _, err := ks.Key(ctx, "key-2"); err != nil {
		t.Fatalf("after the interval: got %v, want the new key", err)
	}
	if got := srv.requests.Load(); got != 3 {
		t.Fatalf("got %d requests, want 3", got)
	}
}

func TestRemoteKeySetServesStaleWhileDown(t *testing.T) {
	key := rsaKey(t)
	srv := newJWKSServer(t, map[string]*rsa.PublicKey{testKID: &key.PublicKey})
	clk := &clock{now: testNow}
	ks := &RemoteKeySet{URL: srv.URL, Client: srv.Client(), Now: clk.Now, TTL: time.Hour, RefetchInterval: time.Minute, MaxStale: 3 * time.Hour}
	ctx := context.Background()
	if _, err := ks.Key(ctx, testKID); err != nil {
		t.Fatal(err)
	}
	srv.setStatus(http.StatusInternalServerError)
	clk.advance(90 * time.Minute) // past the TTL
	for range 10 {
		if _, err := ks.Key(ctx, testKID); err != nil {
			t.Fatalf("issuer down, last good set: got %v", err)
		}
	}
	if got := srv.requests.Load(); got != 2 {
		t.Fatalf("ten lookups while down: got %d requests, want 2 (failed fetches are rate-limited)", got)
	}
	_, err := ks.Key(ctx, "key-2")
	if !errors.Is(err, ErrUnknownKey) || !strings.Contains(err.Error(), "HTTP 500") {
		t.Fatalf("unknown kid while down: got %v, want ErrUnknownKey with the fetch error", err)
	}
	clk.advance(3 * time.Hour) // past TTL+MaxStale
	if _, err := ks.Key(ctx, testKID); !errors.Is(err, ErrKeySetUnavailable) {
		t.Fatalf("past MaxStale: got %v, want ErrKeySetUnavailable", err)
	}
	srv.setStatus(http.StatusOK)
	clk.advance(time.Minute)
	if _, err := ks.Key(ctx, testKID); err != nil {
		t.Fatalf("issuer back: got %v", err)
	}
}

func TestRemoteKeySetNeverFetched(t *testing.T) {
	srv := newJWKSServer(t, nil)
	srv.setStatus(http.StatusServiceUnavailable)
	ks := &RemoteKeySet{URL: srv.URL, Client: srv.Client(), Now: (&clock{now: testNow}).Now}
	if _, err := ks.Key(context.Background(), testKID); !errors.Is(err, ErrKeySetUnavailable) {
		t.Fatalf("got %v, want ErrKeySetUnavailable", err)
	}
	// The middleware answers this 503, not invalid_token: the token is not at fault.
	if e := VerifyError(ErrKeySetUnavailable); e.Status != http.StatusServiceUnavailable {
		t.Fatalf("got %d, want 503", e.Status)
	}
}

func TestRemoteKeySetSizeBound(t *testing.T) {
	key := rsaKey(t)
	srv := newJWKSServer(t, map[string]*rsa.PublicKey{testKID: &key.PublicKey})
	size := int64(len(srv.body))
	ctx := context.Background()
	small := &RemoteKeySet{URL: srv.URL, Client: srv.Client(), MaxBodySize: size - 1}
	if _, err := small.Key(ctx, testKID); !errors.Is(err, ErrKeySetUnavailable) || !strings.Contains(err.Error(), "larger than") {
		t.Fatalf("body one byte over the bound: got %v", err)
	}
	exact := &RemoteKeySet{URL: srv.URL, Client: srv.Client(), MaxBodySize: size}
	if _, err := exact.Key(ctx, testKID); err != nil {
		t.Fatalf("body at the bound: got %v", err)
	}
	srv.mu.Lock()
	srv.body = []byte(`{"keys":[` + strings.Repeat(`{"kty":"oct","k":"AAAA"},`, 50000) + `{}]}`) // > 1 MiB
	srv.mu.Unlock()
	def := &RemoteKeySet{URL: srv.URL, Client: srv.Client()}
	if _, err := def.Key(ctx, testKID); !errors.Is(err, ErrKeySetUnavailable) || !strings.Contains(err.Error(), "larger than 1048576") {
		t.Fatalf("body over 1 MiB with the default bound: got %v", err)
	}
}

func TestParseKeySetSkips(t *testing.T) {
	key := rsaKey(t)
	good, _ := json.Marshal(jose.JSONWebKey{Key: &key.PublicKey, KeyID: "good", Use: "sig"})
	enc, _ := json.Marshal(jose.JSONWebKey{Key: &key.PublicKey, KeyID: "enc", Use: "enc"})
	keys, err := parseKeySet([]byte(`{"keys":[` + string(good) + `,` + string(enc) + `,{"kty":"XYZ","kid":"odd"}]}`))
	if err != nil {
		t.Fatal(err)
	}
	if len(keys) != 1 || keys["good"] == nil {
		t.Fatalf("got %v, want only the signing key", keys)
	}
}

// TestRemoteKeySetConcurrent shares one fetch between concurrent callers (run with -race).
func TestRemoteKeySetConcurrent(t *testing.T) {
	key := rsaKey(t)
	srv := newJWKSServer(t, map[string]*rsa.PublicKey{testKID: &key.PublicKey})
	ks := &RemoteKeySet{URL: srv.URL, Client: srv.Client(), Now: (&clock{now: testNow}).Now}
	var wg sync.WaitGroup
	for range 20 {
		wg.Go(func() {
			if _, err := ks.Key(context.Background(), testKID); err != nil {
				t.Error(err)
			}
		})
	}
	wg.Wait()
	if got := srv.requests.Load(); got != 1 {
		t.Fatalf("20 concurrent first lookups: got %d requests, want 1", got)
	}
}
