package tokens

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/sigil-idp/sigil/internal/store"
)

// RotationPolicy is the signing keys' schedule. A next key is always published (in the JWKS,
// not signing); once the current key has signed for Period and the next has been published
// for PublishAhead, the next becomes current and the current is retired; a retired key stays
// published for RetireAfter — the longest lifetime of a token it signed — and is then deleted.
type RotationPolicy struct {
	Period       time.Duration // 0: no scheduled rotation (sigil keys rotate still works)
	PublishAhead time.Duration // at least the longest a client caches the JWKS (24 h is usual)
	RetireAfter  time.Duration
}

// ErrNotPublishedLongEnough is a forced rotation refused because the next key has not been in
// the JWKS for PublishAhead: clients that cached the JWKS before it appeared would reject
// tokens it signs.
var ErrNotPublishedLongEnough = errors.New("tokens: the next key has not been published long enough")

// Rotate runs the schedule once against the store, as every node does every minute: for
// each algorithm's lineage it publishes a next key if there is none, promotes it when the
// policy says (or now, with force, if it has been published PublishAhead — or regardless,
// with ignoreAhead), deletes keys retired longer than RetireAfter, and reloads. Every change
// is one conditional store statement (a promotion one conditional transaction), so nodes
// running it at once rotate once. A forced rotation refused for one lineage rotates none.
// It reports whether this call rotated.
func (ks *KeySet) Rotate(ctx context.Context, p RotationPolicy, force, ignoreAhead bool) (bool, error) {
	now := ks.now()
	keys, err := ks.st.SigningKeys(ctx)
	if err != nil {
		return false, fmt.Errorf("tokens: load keys: %w", err)
	}
	type lineage struct{ current, next *store.SigningKey }
	lines := map[Algorithm]lineage{}
	for _, alg := range Algorithms() {
		current, next := lineageOf(keys, alg)
		if next == nil {
			if next, err = ks.publishNext(ctx, alg, now); err != nil {
				return false, err
			}
		}
		lines[alg] = lineage{current, next}
		if force && !ignoreAhead && current != nil && next != nil {
			if published := now.Sub(next.StateSince); published < p.PublishAhead {
				return false, fmt.Errorf("%w: %s of %s (%s key %s)", ErrNotPublishedLongEnough, published.Round(time.Second),
					p.PublishAhead, alg, next.ID)
			}
		}
	}
	rotated := false
	for _, alg := range Algorithms() {
		current, next := lines[alg].current, lines[alg].next
		due := force || p.Period > 0 && current != nil && now.Sub(current.StateSince) >= p.Period
		if !due || current == nil || next == nil || now.Sub(next.StateSince) < p.PublishAhead && !ignoreAhead {
			continue // not due, or the next key is not yet in every client's cached JWKS
		}
		err := ks.st.PromoteSigningKey(ctx, current.ID, next.ID, now)
		switch {
		case err == nil:
			rotated = true
			if _, err := ks.publishNext(ctx, alg, now); err != nil {
				return rotated, err
			}
		case !errors.Is(err, store.ErrConflict): // a conflict: another node rotated first
			return rotated, err
		}
	}
	if p.RetireAfter > 0 {
		if err := ks.st.DeleteRetiredKeys(ctx, now.Add(-p.RetireAfter)); err != nil {
			return rotated, err
		}
	}
	return rotated, ks.Reload(ctx)
}

// stored returns alg's stored current and next keys (nil when there is none).
func (ks *KeySet) stored(ctx context.Context, alg Algorithm) (current, next *store.SigningKey, err error) {
	keys, err := ks.st.SigningKeys(ctx)
	if err != nil {
		return nil, nil, fmt.Errorf("tokens: load keys: %w", err)
	}
	current, next = lineageOf(keys, alg)
	return current, next, nil
}

// lineageOf returns alg's current and next keys among keys (nil when there is none).
func lineageOf(keys []store.SigningKey, alg Algorithm) (current, next *store.SigningKey) {
	for i := range keys {
		if keys[i].Algorithm != string(alg) {
			continue
		}
		switch keys[i].State {
		case store.KeyCurrent:
			current = &keys[i]
		case store.KeyNext:
			next = &keys[i]
		}
	}
	return current, next
}

// publishNext stores a new next key of alg (sealed), or finds the one another node just
// stored.
func (ks *KeySet) publishNext(ctx context.Context, alg Algorithm, now time.Time) (*store.SigningKey, error) {
	k, err := NewSigningKey(alg, now)
	if err != nil {
		return nil, err
	}
	k.State = store.KeyNext
	if ks.ring != nil {
		k.PrivateKey = ks.ring.seal(k.ID, k.PrivateKey)
	}
	if err := ks.st.AddSigningKey(ctx, k); err != nil && !errors.Is(err, store.ErrConflict) {
		return nil, fmt.Errorf("tokens: store next signing key: %w", err)
	}
	_, next, err := ks.stored(ctx, alg)
	return next, err
}

// KeyInfo describes a published signing key.
type KeyInfo struct {
	ID, Algorithm string
	State         store.KeyState
	CreatedAt     time.Time
	StateSince    time.Time
}

// Keys describes the stored signing keys, oldest first.
func (ks *KeySet) Keys(ctx context.Context) ([]KeyInfo, error) {
	keys, err := ks.st.SigningKeys(ctx)
	if err != nil {
		return nil, err
	}
	out := make([]KeyInfo, len(keys))
	for i, k := range keys {
		out[i] = KeyInfo{ID: k.ID, Algorithm: k.Algorithm, State: k.State, CreatedAt: k.CreatedAt, StateSince: k.StateSince}
	}
	return out, nil
}

// CurrentKeyID is the kid of alg's key that signs now ("" if none).
func (ks *KeySet) CurrentKeyID(alg Algorithm) string {
	ks.mu.RLock()
	defer ks.mu.RUnlock()
	if k := ks.current[alg]; k != nil {
		return k.id
	}
	return ""
}
