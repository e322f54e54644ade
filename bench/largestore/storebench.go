package main

import (
	"context"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/sigil-idp/sigil/internal/directory"
	"github.com/sigil-idp/sigil/internal/store"
)

// storeBench runs the store's part of a refresh — the token and family read, the user
// read, the rotation — on fresh families of its own, from workers in a closed loop for d,
// and prints the rate and latency percentiles: the same measurement on a small and on a
// seeded store isolates what the store's size costs a refresh (the signatures, the rest
// of a refresh, do not depend on it).
func storeBench(ctx context.Context, storage string, workers int, d time.Duration) error {
	st, err := openStore(ctx, storage)
	if err != nil {
		return err
	}
	defer st.Close()
	if err := st.UpsertTenant(ctx, directory.Tenant{ID: tenantID, Domains: []string{"contoso.test"}, DisplayName: "Contoso"}); err != nil {
		return err
	}
	user := directory.User{ID: "bench-user", TenantID: tenantID, Username: "bench@contoso.test", DisplayName: "Bench",
		PasswordHash: "$argon2id$x", Enabled: true}
	if err := st.UpsertUser(ctx, user); err != nil {
		return err
	}
	run := strconv.FormatInt(time.Now().UnixNano(), 36)
	now := time.Now()
	live := make([]string, workers)
	for w := range live {
		id := b64(16, "bench", run, strconv.Itoa(w))
		live[w] = b64(32, "token", id)
		f := store.RefreshFamily{ID: id, CreatedAt: now, AbsoluteExpiresAt: now.Add(spaAbs),
			Grant: store.Grant{TenantID: tenantID, ClientID: spaClient, UserID: user.ID, Platform: directory.PlatformSPA,
				Resource: "api://todo", Scopes: strings.Fields(spaScopes), AuthTime: now}}
		if err := st.CreateRefreshFamily(ctx, f, store.RefreshToken{Hash: live[w], FamilyID: id, CreatedAt: now, ExpiresAt: now.Add(idle)}); err != nil {
			return err
		}
	}
	var mu sync.Mutex
	var lat []time.Duration
	var firstErr error
	deadline := time.Now().Add(d)
	var wg sync.WaitGroup
	start := time.Now()
	for w := range workers {
		wg.Go(func() {
			var mine []time.Duration
			defer func() { mu.Lock(); lat = append(lat, mine...); mu.Unlock() }()
			for time.Now().Before(deadline) && ctx.Err() == nil {
				t0 := time.Now()
				cur := live[w]
				_, fam, err := st.RefreshToken(ctx, cur)
				if err == nil {
					_, err = st.UserByID(ctx, fam.Grant.UserID)
				}
				var next store.RefreshToken
				if err == nil {
					now := time.Now()
					next, _, err = st.RotateRefreshToken(ctx, store.Rotation{Hash: cur, Now: now, ReuseUntil: now.Add(reuse),
						Expires: now.Add(idle), Successor: func(gen int) string { return successor(cur, gen) }})
				}
				if err != nil {
					mu.Lock()
					firstErr = err
					mu.Unlock()
					return
				}
				live[w] = next.Hash
				mine = append(mine, time.Since(t0))
			}
		})
	}
	wg.Wait()
	elapsed := time.Since(start)
	if firstErr != nil {
		return firstErr
	}
	slices.Sort(lat)
	pct := func(p float64) float64 { return float64(lat[int(float64(len(lat)-1)*p)].Microseconds()) / 1000 }
	fmt.Printf("store refresh: c=%d n=%d %.0f/s p50=%.2fms p99=%.2fms\n", workers, len(lat), float64(len(lat))/elapsed.Seconds(), pct(0.5), pct(0.99))
	return nil
}
