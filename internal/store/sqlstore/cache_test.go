package sqlstore

import (
	"testing"
	"time"
)

// TestCacheGeneration: a read that began before a change is not stored, so the cache cannot
// keep what the change replaced; entries expire; a cache that is not live serves nothing.
func TestCacheGeneration(t *testing.T) {
	c := newDirCache(time.Second, true)
	now := time.Unix(1000, 0)
	c.now = func() time.Time { return now }
	k := cacheKey{kind: 'a', key: "app"}

	_, gen, ok := c.get(k) // a miss: the caller reads the database…
	if ok {
		t.Fatal("hit in an empty cache")
	}
	c.invalidate()       // …while a change commits…
	c.put(k, gen, "old") // …and stores what it read before it
	if v, _, ok := c.get(k); ok {
		t.Fatalf("a read begun before a change was stored: %v", v)
	}

	_, gen, _ = c.get(k)
	c.put(k, gen, "new")
	if v, _, ok := c.get(k); !ok || v != "new" {
		t.Fatalf("got %v %v, want new", v, ok)
	}
	now = now.Add(time.Second + time.Millisecond)
	if _, _, ok := c.get(k); ok {
		t.Fatal("an entry outlived its TTL")
	}

	_, gen, _ = c.get(k)
	c.put(k, gen, "new")
	c.setLive(false) // e.g. PostgreSQL's listener lost its connection
	_, gen, _ = c.get(k)
	c.put(k, gen, "x")
	if _, _, ok := c.get(k); ok {
		t.Fatal("a cache that is not live served an entry")
	}
}
