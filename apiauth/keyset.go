package apiauth

import (
	"context"
	"crypto"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"sync"
	"time"

	jose "github.com/go-jose/go-jose/v4"
)

// KeySet finds the public key that signed a token, by the key id (the JWS "kid" header).
// It returns an error wrapping [ErrUnknownKey] when it has no such key.
type KeySet interface {
	Key(ctx context.Context, kid string) (crypto.PublicKey, error)
}

// ErrUnknownKey is the error of a [KeySet] that has no key with the asked id.
var ErrUnknownKey = errors.New("apiauth: unknown signing key")

// ErrKeySetUnavailable wraps the error of a [RemoteKeySet] that has no usable key set: none
// fetched yet, or the last good one older than TTL+MaxStale, while the issuer is unreachable
// or answers garbage. It is the server's problem, not the token's.
var ErrKeySetUnavailable = errors.New("apiauth: the issuer's keys are unavailable")

// StaticKeySet is a fixed key set, by key id. It is meant for tests and for APIs that pin
// the issuer's keys.
type StaticKeySet map[string]crypto.PublicKey

// Key returns the key with id kid.
func (s StaticKeySet) Key(_ context.Context, kid string) (crypto.PublicKey, error) {
	k, ok := s[kid]
	if !ok {
		return nil, fmt.Errorf("%w %q", ErrUnknownKey, kid)
	}
	return k, nil
}

// Defaults of [RemoteKeySet].
const (
	DefaultKeySetTTL       = time.Hour
	DefaultRefetchInterval = time.Minute
	DefaultMaxStale        = 24 * time.Hour
	DefaultMaxKeySetSize   = 1 << 20
	defaultKeySetTimeout   = 30 * time.Second
)

// RemoteKeySet is a JSON Web Key Set (RFC 7517 §5) fetched from URL, such as Sigil's
// https://<host>/<tenant>/discovery/v2.0/keys, and cached:
//
//   - a fetched set is used for TTL;
//   - a token signed by a key the set does not hold triggers a refetch, at most once per
//     RefetchInterval (a stream of tokens with made-up key ids costs one request per interval);
//   - while the issuer is unreachable or answers an error, the last good set keeps being used,
//     for up to MaxStale past its TTL, and failed fetches are retried at most once per
//     RefetchInterval;
//   - the response body is read up to MaxBodySize bytes; a larger one is an error.
//
// Only keys with "use" absent or "sig" are kept. A RemoteKeySet is safe for concurrent use;
// concurrent callers share one fetch. Set the fields before the first call to Key and do not
// change them afterwards.
type RemoteKeySet struct {
	// URL is the JWKS address. Required.
	URL string
	// Client makes the requests; nil is a client with a 30-second timeout.
	Client *http.Client
	// Now is the clock; nil is time.Now.
	Now func() time.Time
	// TTL is how long a fetched set is used before it is fetched again; 0 is
	// DefaultKeySetTTL.
	TTL time.Duration
	// RefetchInterval is the least time between two fetches caused by unknown key ids or by
	// failures; 0 is DefaultRefetchInterval.
	RefetchInterval time.Duration
	// MaxStale is how long past its TTL the last good set is used while fetches fail; 0 is
	// DefaultMaxStale.
	MaxStale time.Duration
	// MaxBodySize bounds the response body in bytes; 0 is DefaultMaxKeySetSize.
	MaxBodySize int64

	fetchMu sync.Mutex // held by the one fetching
	mu      sync.RWMutex
	keys    map[string]crypto.PublicKey // the last good set; nil before the first
	fetched time.Time                   // when keys were fetched
	tried   time.Time                   // the last fetch attempt
	lastErr error                       // the last attempt's error, nil if it succeeded
}

var _ KeySet = (*RemoteKeySet)(nil)

// Key returns the key with id kid, fetching the set when it is missing, expired, or does
// not hold kid (within the limits described on [RemoteKeySet]).
func (s *RemoteKeySet) Key(ctx context.Context, kid string) (crypto.PublicKey, error) {
	now := s.now()
	key, fresh, ok := s.lookup(kid, now)
	if ok && fresh {
		return key, nil
	}
	s.fetchMu.Lock()
	defer s.fetchMu.Unlock()
	// Another caller may have fetched while this one waited.
	key, fresh, ok = s.lookup(kid, now)
	if ok && fresh {
		return key, nil
	}
	s.mu.RLock()
	tried, lastErr := s.tried, s.lastErr
	s.mu.RUnlock()
	if tried.IsZero() || now.Sub(tried) >= s.refetchInterval() || now.Before(tried) {
		lastErr = s.refresh(ctx, now)
		key, _, ok = s.lookup(kid, now)
	}
	switch {
	case ok:
		return key, nil // fresh, or the stale set while fetches fail
	case s.hasSet(now) && lastErr == nil:
		return nil, fmt.Errorf("%w %q", ErrUnknownKey, kid)
	case s.hasSet(now):
		return nil, fmt.Errorf("%w %q (fetching %s: %v)", ErrUnknownKey, kid, s.URL, lastErr)
	case lastErr == nil:
		return nil, fmt.Errorf("%w: not fetched yet", ErrKeySetUnavailable)
	default:
		return nil, fmt.Errorf("%w: %v", ErrKeySetUnavailable, lastErr)
	}
}

// lookup finds kid in the cached set. fresh says the set is within its TTL; a set past
// TTL+MaxStale is not used at all.
func (s *RemoteKeySet) lookup(kid string, now time.Time) (key crypto.PublicKey, fresh, ok bool) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	if s.keys == nil {
		return nil, false, false
	}
	age := now.Sub(s.fetched)
	if age > s.ttl()+s.maxStale() {
		return nil, false, false
	}
	key, ok = s.keys[kid]
	return key, age < s.ttl(), ok
}

// hasSet says whether a usable set (within TTL+MaxStale) is cached.
func (s *RemoteKeySet) hasSet(now time.Time) bool {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return s.keys != nil && now.Sub(s.fetched) <= s.ttl()+s.maxStale()
}

// refresh fetches the set once and records the attempt.
func (s *RemoteKeySet) refresh(ctx context.Context, now time.Time) error {
	keys, err := s.fetch(ctx)
	s.mu.Lock()
	defer s.mu.Unlock()
	s.tried, s.lastErr = now, err
	if err == nil {
		s.keys, s.fetched = keys, now
	}
	return err
}

// fetch reads and parses the set.
func (s *RemoteKeySet) fetch(ctx context.Context) (map[string]crypto.PublicKey, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, s.URL, nil)
	if err != nil {
		return nil, err
	}
	req.Header.Set("Accept", "application/json")
	client := s.Client
	if client == nil {
		client = &http.Client{Timeout: defaultKeySetTimeout}
	}
	resp, err := client.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	max := s.MaxBodySize
	if max <= 0 {
		max = DefaultMaxKeySetSize
	}
	body, err := io.ReadAll(io.LimitReader(resp.Body, max+1))
	if err != nil {
		return nil, err
	}
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("HTTP %d", resp.StatusCode)
	}
	if int64(len(body)) > max {
		return nil, fmt.Errorf("the key set is larger than %d bytes", max)
	}
	return parseKeySet(body)
}

// parseKeySet keeps the set's public signing keys by kid.
func parseKeySet(body []byte) (map[string]crypto.PublicKey, error) {
	var set struct {
		Keys []json.RawMessage `json:"keys"`
	}
	if err := json.Unmarshal(body, &set); err != nil {
		return nil, fmt.Errorf("malformed key set: %w", err)
	}
	keys := make(map[string]crypto.PublicKey, len(set.Keys))
	for _, raw := range set.Keys {
		var k jose.JSONWebKey
		// A key of a type this package does not know is skipped, not fatal (RFC 7517 §5).
		if err := k.UnmarshalJSON(raw); err != nil || k.Use != "" && k.Use != "sig" || !k.Valid() {
			continue
		}
		pub := k.Public()
		if pub.Key == nil {
			continue
		}
		keys[k.KeyID] = pub.Key
	}
	return keys, nil
}

func (s *RemoteKeySet) now() time.Time {
	if s.Now != nil {
		return s.Now()
	}
	return time.Now()
}

func (s *RemoteKeySet) ttl() time.Duration {
	if s.TTL > 0 {
		return s.TTL
	}
	return DefaultKeySetTTL
}

func (s *RemoteKeySet) refetchInterval() time.Duration {
	if s.RefetchInterval > 0 {
		return s.RefetchInterval
	}
	return DefaultRefetchInterval
}

func (s *RemoteKeySet) maxStale() time.Duration {
	if s.MaxStale > 0 {
		return s.MaxStale
	}
	return DefaultMaxStale
}
