package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

// openBatchTest opens a SQLite store with two scratch tables, and records the size of every
// batch the committer commits.
func openBatchTest(t *testing.T) (*Store, func() []int) {
	t.Helper()
	s, err := OpenSQLite(context.Background(), filepath.Join(t.TempDir(), "sigil.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	for _, q := range []string{
		`CREATE TABLE gc_parent (id INTEGER PRIMARY KEY)`,
		`CREATE TABLE gc_child (id INTEGER PRIMARY KEY,
			parent INTEGER REFERENCES gc_parent (id) DEFERRABLE INITIALLY DEFERRED)`,
	} {
		if _, err := s.db.Exec(q); err != nil {
			t.Fatal(err)
		}
	}
	var mu sync.Mutex
	var sizes []int
	s.commits.observe = func(n int, _ time.Duration, _ error) {
		mu.Lock()
		sizes = append(sizes, n)
		mu.Unlock()
	}
	return s, func() []int {
		mu.Lock()
		defer mu.Unlock()
		return append([]int(nil), sizes...)
	}
}

// insertChild inserts a child row; parent nil is none, a parent that does not exist fails
// only at COMMIT (the reference is deferred).
func insertChild(id int, parent any) func(*sql.Tx) error {
	return func(tx *sql.Tx) error {
		_, err := tx.Exec(`INSERT INTO gc_child (id, parent) VALUES ($1, $2)`, id, parent)
		return err
	}
}

func childIDs(t *testing.T, s *Store) []int {
	t.Helper()
	rows, err := s.db.Query(`SELECT id FROM gc_child ORDER BY id`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var ids []int
	for rows.Next() {
		var id int
		if err := rows.Scan(&id); err != nil {
			t.Fatal(err)
		}
		ids = append(ids, id)
	}
	return ids
}

// holdBatch returns the channels a test's first job uses to hold its batch open: it sends on
// started when it runs and waits for release. A test that fails before releasing it still
// releases it when it ends, so that the store can close.
func holdBatch(t *testing.T) (release, started chan struct{}) {
	release, started = make(chan struct{}, 1), make(chan struct{}, 1)
	t.Cleanup(func() {
		select {
		case release <- struct{}{}:
		default:
		}
	})
	return release, started
}

// waitQueued waits (bounded) until n jobs wait for the committer's next batch.
func waitQueued(t *testing.T, c *committer, n int) {
	t.Helper()
	for deadline := time.Now().Add(10 * time.Second); c.queued() < n; time.Sleep(time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("%d jobs queued after 10 s, want %d", c.queued(), n)
		}
	}
}

// TestGroupCommit: writes that queue while a batch runs join it and commit with it, each
// with its own result — a failing one undone alone, a panicking one raising its panic in its
// caller, a cancelled one not run.
func TestGroupCommit(t *testing.T) {
	s, sizes := openBatchTest(t)
	ctx := context.Background()
	release, started := holdBatch(t)
	first := make(chan error, 1)
	go func() {
		first <- s.tx(ctx, func(tx *sql.Tx) error {
			started <- struct{}{}
			<-release // hold the batch open while the others queue
			return insertChild(1, nil)(tx)
		})
	}()
	<-started

	cancelled, cancel := context.WithCancel(ctx)
	cancel()
	type outcome struct {
		id       int
		err      error
		panicked any
	}
	var wg sync.WaitGroup
	out := make(chan outcome, 10)
	for id := 2; id <= 9; id++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			jobCtx, fn := ctx, insertChild(id, nil)
			switch id {
			case 3: // its INSERT succeeds, then it fails: its row must be undone
				fn = func(tx *sql.Tx) error {
					insertChild(3, nil)(tx)
					return errors.New("job 3 fails")
				}
			case 4:
				fn = func(tx *sql.Tx) error {
					insertChild(4, nil)(tx)
					panic("job 4 panics")
				}
			case 5:
				jobCtx = cancelled
			}
			defer func() {
				if p := recover(); p != nil {
					out <- outcome{id: id, panicked: p}
				}
			}()
			out <- outcome{id: id, err: s.tx(jobCtx, fn)}
		}()
	}
	waitQueued(t, s.commits, 8)
	release <- struct{}{}
	if err := <-first; err != nil {
		t.Fatalf("first job: %v", err)
	}
	wg.Wait()
	close(out)
	for o := range out {
		switch {
		case o.id == 3 && (o.err == nil || !strings.Contains(o.err.Error(), "job 3 fails")):
			t.Errorf("job 3: err %v, want its own error", o.err)
		case o.id == 4 && o.panicked != "job 4 panics":
			t.Errorf("job 4: panic %v, err %v, want its panic raised in the caller", o.panicked, o.err)
		case o.id == 5 && !errors.Is(o.err, context.Canceled):
			t.Errorf("job 5 (cancelled): err %v, want context.Canceled", o.err)
		case o.id != 3 && o.id != 4 && o.id != 5 && o.err != nil:
			t.Errorf("job %d: %v", o.id, o.err)
		}
	}
	if got, want := childIDs(t, s), []int{1, 2, 6, 7, 8, 9}; !equalInts(got, want) {
		t.Errorf("rows %v, want %v (3 undone, 4 undone, 5 not run)", got, want)
	}
	if got := sizes(); !equalInts(got, []int{9}) {
		t.Errorf("batches %v, want one of 9 jobs (one COMMIT for all)", got)
	}
}

// TestGroupCommitFailure: when the batch's COMMIT fails, every job in it that succeeded
// hears the failure (none of it is durable), and the store goes on working.
func TestGroupCommitFailure(t *testing.T) {
	s, sizes := openBatchTest(t)
	ctx := context.Background()
	release, started := holdBatch(t)
	errs := make(chan error, 2)
	go func() {
		errs <- s.tx(ctx, func(tx *sql.Tx) error {
			started <- struct{}{}
			<-release
			return insertChild(1, nil)(tx)
		})
	}()
	<-started
	go func() { errs <- s.tx(ctx, insertChild(2, 42)) }() // no parent 42: fails at COMMIT
	waitQueued(t, s.commits, 1)
	release <- struct{}{}
	for range 2 {
		if err := <-errs; err == nil || !strings.Contains(err.Error(), "commit") {
			t.Errorf("err %v, want the COMMIT's failure", err)
		}
	}
	if ids := childIDs(t, s); len(ids) != 0 {
		t.Errorf("rows %v after a failed COMMIT, want none", ids)
	}
	if got := sizes(); !equalInts(got, []int{2}) {
		t.Errorf("batches %v, want one of 2", got)
	}
	// The connection was not handed back inside the failed transaction.
	for id := 10; id < 20; id++ {
		if err := s.tx(ctx, insertChild(id, nil)); err != nil {
			t.Fatalf("write after the failed commit: %v", err)
		}
	}
	if n := len(childIDs(t, s)); n != 10 {
		t.Errorf("%d rows, want 10", n)
	}
}

// TestGroupCommitClose: writes after Close fail with errClosed instead of hanging.
func TestGroupCommitClose(t *testing.T) {
	s, _ := openBatchTest(t)
	s.commits.stop()
	if err := s.tx(context.Background(), insertChild(1, nil)); !errors.Is(err, errClosed) {
		t.Fatalf("err %v, want errClosed", err)
	}
}

func equalInts(a, b []int) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

// committed counts gc_child's rows as another connection sees them: only what committed.
func committed(t *testing.T, s *Store) int {
	t.Helper()
	var n int
	if err := s.db.QueryRow(`SELECT count(*) FROM gc_child`).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

// TestGroupCommitOverlap: a job that overlaps its commit (txThen) runs then before the
// COMMIT, with the batch held open for it, so that a write arriving meanwhile shares the
// COMMIT; txThen returns only after it.
func TestGroupCommitOverlap(t *testing.T) {
	s, sizes := openBatchTest(t)
	s.commits.hold = time.Minute // only the callers end the hold here
	ctx := context.Background()
	second := make(chan error, 1)
	joined := make(chan struct{})
	err := s.txThen(ctx, insertChild(1, nil), func() error {
		if n := committed(t, s); n != 0 {
			t.Errorf("then sees %d committed rows, want 0: it must run before the COMMIT", n)
		}
		go func() {
			second <- s.txThen(ctx, insertChild(2, nil), func() error { close(joined); return nil })
		}()
		<-joined // the second job ran in this batch: its then was called
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if err := <-second; err != nil {
		t.Fatal(err)
	}
	if n := committed(t, s); n != 2 {
		t.Errorf("%d rows committed, want 2", n)
	}
	if got := sizes(); !equalInts(got, []int{2}) {
		t.Errorf("batches %v, want one of 2 (the second write joined the held batch)", got)
	}
}

// TestGroupCommitOverlapBounded: a caller that overlaps for longer than the hold does not
// hold the batch: it commits without waiting for it, and the caller still hears success.
func TestGroupCommitOverlapBounded(t *testing.T) {
	s, sizes := openBatchTest(t)
	s.commits.hold = 20 * time.Millisecond
	err := s.txThen(context.Background(), insertChild(1, nil), func() error {
		for deadline := time.Now().Add(10 * time.Second); len(sizes()) == 0; time.Sleep(time.Millisecond) {
			if time.Now().After(deadline) {
				return errors.New("no COMMIT within 10 s while then ran")
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if n := committed(t, s); n != 1 {
		t.Errorf("%d rows committed, want 1", n)
	}
}

// TestGroupCommitOverlapErrors: then runs only when the job succeeded; its error comes back
// once the write committed; a failed COMMIT wins over it; a panic in then reaches its caller
// and leaves the committer working.
func TestGroupCommitOverlapErrors(t *testing.T) {
	s, _ := openBatchTest(t)
	ctx := context.Background()
	called := false
	err := s.txThen(ctx, func(*sql.Tx) error { return errors.New("job fails") }, func() error { called = true; return nil })
	if err == nil || err.Error() != "job fails" || called {
		t.Errorf("failing job: err %v, then called %v; want the job's error and no then", err, called)
	}

	thenErr := errors.New("then fails")
	if err := s.txThen(ctx, insertChild(1, nil), func() error { return thenErr }); err != thenErr {
		t.Errorf("err %v, want then's", err)
	}
	if n := committed(t, s); n != 1 {
		t.Errorf("%d rows after then failed, want 1: the write commits anyway", n)
	}

	called = false
	err = s.txThen(ctx, insertChild(2, 42), func() error { called = true; return thenErr }) // no parent 42: COMMIT fails
	if err == nil || !strings.Contains(err.Error(), "commit") || !called {
		t.Errorf("failed COMMIT: err %v, then called %v; want the COMMIT's error after then ran", err, called)
	}

	func() {
		defer func() {
			if p := recover(); p != "then panics" {
				t.Errorf("recovered %v, want then's panic", p)
			}
		}()
		s.txThen(ctx, insertChild(3, nil), func() error { panic("then panics") })
	}()
	if err := s.tx(ctx, insertChild(4, nil)); err != nil {
		t.Fatalf("write after a panic in then: %v", err)
	}
	if got := childIDs(t, s); !equalInts(got, []int{1, 3, 4}) {
		t.Errorf("rows %v, want [1 3 4]", got)
	}
}

// TestGroupCommitOverlapLate: when the batch committed before its caller looked (both the
// job's success and its result are there), then still runs, before the result is returned.
func TestGroupCommitOverlapLate(t *testing.T) {
	c := &committer{wake: make(chan struct{}, 1)}
	for i := range 100 { // a select between the two would skip then about every other time
		j := &writeJob{result: make(chan jobResult, 1), ran: make(chan *batch, 1)}
		j.ran <- &batch{}
		j.result <- jobResult{}
		called := false
		if err := c.await(j, func() error { called = true; return nil }); err != nil || !called {
			t.Fatalf("round %d: err %v, then called %v; want then run", i, err, called)
		}
	}
}
