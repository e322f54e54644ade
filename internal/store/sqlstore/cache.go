package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"slices"
	"sync"
	"time"

	"github.com/jackc/pgx/v5/stdlib"

	"github.com/sigil-idp/sigil/internal/directory"
)

// The directory cache. Every token request reads its tenant, its app (and the app's URIs,
// secrets and certificates) and the API it asks for, which change only when an operator
// changes them; the cache keeps the ones found, per node, so that a request reads only what
// is its own (the token, the user, the grants). How stale a node can be:
//
//   - A change through this Store (the admin API, the config applied at start, the
//     test-control API) empties the cache when it commits: the next request reads it.
//   - On PostgreSQL the same transaction sends NOTIFY sigil_directory, which every node
//     LISTENs for and empties its cache on: other nodes see the change within the
//     notification's delivery (milliseconds). While a node's listening connection is down
//     the cache is not used (every request reads the database), and it is emptied when the
//     connection is back. Entries also expire after pgCacheTTL, as a backstop.
//   - On SQLite another process on the file (the sigil CLI) cannot notify: entries expire
//     after sqliteCacheTTL.
//
// Only what was found is cached (a lookup of an unknown client id reads the database each
// time, as before), and a read that raced with a change is not stored: each entry is stored
// only if no change was committed since the read began (the generation).

// Cache lifetimes: see above.
const (
	sqliteCacheTTL = 2 * time.Second
	pgCacheTTL     = time.Minute
	// maxCacheEntries bounds the cache (lookups are case-insensitive, so one tenant can be
	// asked for under many spellings): past it the cache is emptied.
	maxCacheEntries = 10_000
	notifyChannel   = "sigil_directory"
)

type dirCache struct {
	ttl time.Duration
	now func() time.Time // time.Now; tests move it

	mu      sync.Mutex
	gen     uint64 // incremented by every change: a read begun before it is not stored
	live    bool   // false: do not use (PostgreSQL's listener is not connected)
	entries map[cacheKey]cacheEntry
}

type cacheKey struct {
	kind     byte // 't' tenant by id, 'd' tenant by domain, 'a' app, 'i' API
	tenantID string
	key      string
}

type cacheEntry struct {
	v       any // directory.Tenant, directory.App or directory.API
	expires time.Time
}

func newDirCache(ttl time.Duration, live bool) *dirCache {
	return &dirCache{ttl: ttl, now: time.Now, live: live, entries: map[cacheKey]cacheEntry{}}
}

// get returns a cached value, and the generation a read that misses must be stored under.
func (c *dirCache) get(k cacheKey) (any, uint64, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if !c.live {
		return nil, c.gen, false
	}
	e, ok := c.entries[k]
	if !ok || c.now().After(e.expires) {
		return nil, c.gen, false
	}
	return e.v, c.gen, true
}

// put stores v if nothing changed since the read that found it began (gen).
func (c *dirCache) put(k cacheKey, gen uint64, v any) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if !c.live || gen != c.gen {
		return
	}
	if len(c.entries) >= maxCacheEntries {
		clear(c.entries)
	}
	c.entries[k] = cacheEntry{v: v, expires: c.now().Add(c.ttl)}
}

// invalidate empties the cache: the directory changed.
func (c *dirCache) invalidate() {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.gen++
	clear(c.entries)
}

// setLive empties the cache and turns it on or off: off while PostgreSQL's listener is
// down (changes may be missed), on once it listens again.
func (c *dirCache) setLive(live bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.gen++
	c.live = live
	clear(c.entries)
}

// cached runs read unless the cache has the value for k, and caches what it found. The
// value handed out is a copy (fresh slices): callers may append to what they got.
func cached[T any](s *Store, k cacheKey, read func() (T, error), clone func(T) T) (T, error) {
	v, gen, ok := s.cache.get(k)
	if ok {
		return clone(v.(T)), nil
	}
	got, err := read()
	if err != nil {
		return got, err
	}
	s.cache.put(k, gen, got)
	return clone(got), nil
}

func cloneTenant(t directory.Tenant) directory.Tenant {
	t.Domains = slices.Clone(t.Domains)
	return t
}

func cloneApp(a directory.App) directory.App {
	a.RedirectURIs = slices.Clone(a.RedirectURIs)
	a.PostLogoutRedirectURIs = slices.Clone(a.PostLogoutRedirectURIs)
	a.SecretHashes = slices.Clone(a.SecretHashes)
	a.Certificates = slices.Clone(a.Certificates)
	a.AppPermissions = slices.Clone(a.AppPermissions)
	a.OptionalIDClaims = slices.Clone(a.OptionalIDClaims)
	a.OptionalAccessClaims = slices.Clone(a.OptionalAccessClaims)
	return a
}

func cloneAPI(a directory.API) directory.API {
	a.Scopes = slices.Clone(a.Scopes)
	a.AppRoles = slices.Clone(a.AppRoles)
	return a
}

// directoryTx runs a transaction that changes tenants, apps or APIs: on PostgreSQL it also
// notifies the other nodes (delivered when it commits); once it committed, this node's cache
// is emptied.
func (s *Store) directoryTx(ctx context.Context, fn func(*sql.Tx) error) error {
	err := s.tx(ctx, func(tx *sql.Tx) error {
		if err := fn(tx); err != nil {
			return err
		}
		if s.engine == "postgres" {
			if _, err := s.in(tx).exec(ctx, `SELECT pg_notify($1, '')`, notifyChannel); err != nil {
				return err
			}
		}
		return nil
	})
	s.cache.invalidate()
	return err
}

// listen keeps a connection LISTENing for directory changes (PostgreSQL) until ctx ends,
// emptying the cache on each, and reconnecting — with the cache off meanwhile — when the
// connection fails.
func (s *Store) listen(ctx context.Context) {
	defer close(s.listening)
	for wait := 100 * time.Millisecond; ctx.Err() == nil; wait = min(2*wait, 5*time.Second) {
		if s.listenOnce(ctx) == nil {
			wait = 100 * time.Millisecond
		}
		s.cache.setLive(false)
		select {
		case <-ctx.Done():
		case <-time.After(wait):
		}
	}
}

func (s *Store) listenOnce(ctx context.Context) error {
	c, err := s.db.Conn(ctx)
	if err != nil {
		return err
	}
	defer c.Close()
	return c.Raw(func(dc any) error {
		sc, ok := dc.(*stdlib.Conn)
		if !ok {
			return errors.New("sqlstore: not a pgx connection")
		}
		pc := sc.Conn()
		if _, err := pc.Exec(ctx, "LISTEN "+notifyChannel); err != nil {
			return err
		}
		s.cache.setLive(true) // listening: what is read from now on can be cached
		for {
			if _, err := pc.WaitForNotification(ctx); err != nil {
				pc.Close(context.WithoutCancel(ctx)) // never back to the pool, listening
				return err
			}
			s.cache.invalidate()
		}
	})
}
