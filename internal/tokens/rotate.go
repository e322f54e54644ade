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

// Rotate runs the schedule once against the store, as every node does every minute: it
// publishes a next key if there is none, promotes it when the policy says (or now, with
// force, if it has been published PublishAhead — or regardless, with ignoreAhead), deletes
// keys retired longer than RetireAfter, and reloads. Every change is one conditional store
// statement, so nodes running it at once rotate once. It reports whether this call rotated.
func (ks *KeySet) Rotate(ctx context.Context, p RotationPolicy, force, ignoreAhead bool) (bool, error) {
	now := ks.now()
	current, next, err := ks.stored(ctx)
	if err != nil {
		return false, err
	}
	if next == nil {
		if next, err = ks.publishNext(ctx, now); err != nil {
			return false, err
		}
	}
	rotated := false
	due := force || p.Period > 0 && current != nil && now.Sub(current.StateSince) >= p.Period
	if due && current != nil && next != nil {
		switch published := now.Sub(next.StateSince); {
		case published < p.PublishAhead && !ignoreAhead && force:
			return false, fmt.Errorf("%w: %s of %s (key %s)", ErrNotPublishedLongEnough, published.Round(time.Second), p.PublishAhead, next.ID)
		case published < p.PublishAhead && !ignoreAhead:
			// wait: the next key is not yet in every client's cached JWKS
		default:
			err := ks.st.PromoteSigningKey(ctx, current.ID, next.ID, now)
			switch {
			case err == nil:
				rotated = true
				if _, err := ks.publishNext(ctx, now); err != nil {
					return rotated, err
				}
			case !errors.Is(err, store.ErrConflict): // a conflict: another node rotated first
				return false, err
			}
		}
	}
	if p.RetireAfter > 0 {
		if err := ks.st.DeleteRetiredKeys(ctx, now.Add(-p.RetireAfter)); err != nil {
			return rotated, err
		}
	}
	return rotated, ks.Reload(ctx)
}

// stored returns the stored current and next keys (nil when there is none).
func (ks *KeySet) stored(ctx context.Context) (current, next *store.SigningKey, err error) {
	keys, err := ks.st.SigningKeys(ctx)
	if err != nil {
		return nil, nil, fmt.Errorf("tokens: load keys: %w", err)
	}
	for i := range keys {
		switch keys[i].State {
		case store.KeyCurrent:
			current = &keys[i]
		case store.KeyNext:
			next = &keys[i]
		}
	}
	return current, next, nil
}

// publishNext stores a new next key (sealed), or finds the one another node just stored.
func (ks *KeySet) publishNext(ctx context.Context, now time.Time) (*store.SigningKey, error) {
	k, err := NewSigningKey(now)
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
	_, next, err := ks.stored(ctx)
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

// CurrentKeyID is the kid of the key that signs now.
func (ks *KeySet) CurrentKeyID() string {
	ks.mu.RLock()
	defer ks.mu.RUnlock()
	if ks.current == nil {
		return ""
	}
	return ks.current.id
}
