package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"sync"
	"time"
)

// Group commit (SQLite). SQLite has one write lock per database, and with synchronous=FULL
// each COMMIT waits for an fsync of the WAL: one transaction per request would hold every
// other writer of the process behind one fsync per request. So a Store on SQLite has one
// writer goroutine, the committer, that runs the write transactions of concurrent requests
// inside one SQLite transaction and commits them together:
//
//	BEGIN IMMEDIATE
//	  SAVEPOINT w; job 1; RELEASE w        (a job whose fn fails: ROLLBACK TO w; RELEASE w)
//	  SAVEPOINT w; job 2; RELEASE w
//	  …                                    (every job that was waiting when the batch ran)
//	COMMIT                                 (one fsync for the batch)
//
// then tells each job its result. What holds:
//
//   - Jobs run one after another, each seeing the writes of the jobs before it, exactly as
//     if each were its own immediate transaction in that order: every conditional statement
//     still decides on the state the previous job left (nothing is read from outside the
//     transaction in between).
//   - A job's failure undoes only its own writes (its savepoint); the others commit.
//   - Nobody hears "done" before the COMMIT that made their writes durable returned. If the
//     COMMIT fails, or the transaction breaks, every job of the batch that had succeeded is
//     told that error instead: none of it was committed.
//   - A job whose context is done before it starts is skipped with the context's error. Once
//     started it runs to the end without its cancellation (an interrupted write inside an
//     explicit transaction would abort the whole batch in SQLite), and its caller waits for
//     the result: a caller never reports a failure for a write that committed.
//   - The batch grows while its jobs run: no job waits for a timer, so a lone request pays
//     no latency for batching, and under load a commit carries as many requests as arrived
//     during the previous one (at most maxBatch).
//   - A job may overlap its commit (runThen): once its writes ran, its caller hears so and
//     does work that needs them but has no effect outside the process (a refresh signs its
//     tokens), while the batch stays open and takes in the requests that arrive meanwhile;
//     the caller still answers nothing before the COMMIT returned. The batch commits as soon
//     as one of its callers waits for it (one that finished overlapping, or one whose job
//     does not overlap), or after maxHold: a slow or stuck caller holds the others back by
//     no more than that. So under load a commit carries the writes of the requests that
//     arrive while its first caller signs, not only of those that arrived during one fsync;
//     and no caller that finished its work waits for anything but the COMMIT.
//
// Other processes on the same file queue on SQLite's busy timeout as before; within the
// process the committer replaces the writer mutex, and a writer waiting for it wakes the
// moment the batch before it commits.

// maxBatch bounds the jobs in one SQLite transaction, so that a long queue cannot hold the
// acknowledgement of the first job behind an unbounded run of others.
const maxBatch = 128

// maxHold bounds how long a batch waits for callers that overlap its commit (runThen).
// Two RSA signatures take about 2 ms of CPU; under load, with other requests sharing the
// cores, a caller's overlap takes a few times that.
const maxHold = 20 * time.Millisecond

// errClosed answers writes after Close.
var errClosed = errors.New("sqlstore: store is closed")

// writeJob is one write transaction waiting for the committer.
type writeJob struct {
	ctx    context.Context
	fn     func(*sql.Tx) error
	result chan jobResult // buffered, 1
	// ran, for a job that overlaps its commit (runThen), hears that fn succeeded, before the
	// COMMIT; buffered, 1.
	ran chan *batch
}

// batch is what a batch's callers that overlap its commit share with the committer.
type batch struct {
	waiting bool // guarded by committer.mu: a caller of the batch waits for its COMMIT
}

type jobResult struct {
	err   error
	panic any // a panic in fn, raised again in the caller's goroutine
}

// committer owns the writer goroutine of a SQLite Store.
type committer struct {
	db   *sql.DB
	wake chan struct{} // buffered, 1: the queue has jobs
	quit chan struct{}
	done chan struct{}
	// observe, when set, learns of every batch: its size and how long the COMMIT took.
	observe func(jobs int, commit time.Duration, err error)
	hold    time.Duration // maxHold; tests change it

	mu     sync.Mutex
	queue  []*writeJob // handed over, not yet taken into a batch: every one will be answered
	closed bool
}

// startCommitter runs a writer goroutine on db until stop.
func startCommitter(db *sql.DB) *committer {
	c := &committer{db: db, wake: make(chan struct{}, 1), quit: make(chan struct{}), done: make(chan struct{}), hold: maxHold}
	go c.loop()
	return c
}

// stop ends the writer goroutine after the batch it is running, if any; jobs still queued
// are answered errClosed.
func (c *committer) stop() {
	c.mu.Lock()
	if !c.closed {
		c.closed = true
		close(c.quit)
	}
	c.mu.Unlock()
	<-c.done
}

// run hands fn to the writer goroutine and waits for its batch to commit.
func (c *committer) run(ctx context.Context, fn func(*sql.Tx) error) error {
	j := &writeJob{ctx: ctx, fn: fn, result: make(chan jobResult, 1)}
	if !c.enqueue(j) {
		return errClosed
	}
	r := <-j.result
	if r.panic != nil {
		panic(r.panic)
	}
	return r.err
}

// runThen is run, except that when fn succeeds, then runs in the caller's goroutine while
// the batch's COMMIT is pending (the batch stays open until one of its callers waits, at most
// maxHold). then must not write through the committer. It returns fn's error or the
// COMMIT's; when both succeeded, then's.
func (c *committer) runThen(ctx context.Context, fn func(*sql.Tx) error, then func() error) error {
	j := &writeJob{ctx: ctx, fn: fn, result: make(chan jobResult, 1), ran: make(chan *batch, 1)}
	if !c.enqueue(j) {
		return errClosed
	}
	return c.await(j, then)
}

// enqueue hands j to the writer goroutine; false once the committer is stopped.
func (c *committer) enqueue(j *writeJob) bool {
	c.mu.Lock()
	if c.closed {
		c.mu.Unlock()
		return false
	}
	c.queue = append(c.queue, j)
	c.mu.Unlock()
	c.signal()
	return true
}

// await waits for j's result, running then first when fn succeeded. The committer hears
// of fn's success on j.ran before it answers j.result, so a result already there when the
// caller looks does not mean then is skipped: its batch committed without waiting for it.
func (c *committer) await(j *writeJob, then func() error) error {
	var r jobResult
	answered := false
	var b *batch
	select {
	case b = <-j.ran:
	case r = <-j.result:
		answered = true
		if r.err == nil && r.panic == nil {
			select {
			case b = <-j.ran: // committed before the caller looked: then has not run yet
			default:
			}
		}
	}
	if b != nil {
		thenErr := c.overlap(b, then)
		if !answered {
			r = <-j.result
		}
		if r.err == nil && r.panic == nil {
			r.err = thenErr
		}
	}
	if r.panic != nil {
		panic(r.panic)
	}
	return r.err
}

// overlap runs then, and tells the committer when it is done: its caller waits.
func (c *committer) overlap(b *batch, then func() error) error {
	defer func() {
		c.mu.Lock()
		b.waiting = true
		c.mu.Unlock()
		c.signal()
	}()
	return then()
}

// signal wakes the committer: a job was queued, or a caller stopped overlapping.
func (c *committer) signal() {
	select {
	case c.wake <- struct{}{}:
	default: // a wake-up is pending already
	}
}

// take moves up to n queued jobs onto batch.
func (c *committer) take(batch []*writeJob, n int) []*writeJob {
	c.mu.Lock()
	defer c.mu.Unlock()
	n = min(n, len(c.queue))
	batch = append(batch, c.queue[:n]...)
	c.queue = append(c.queue[:0], c.queue[n:]...)
	return batch
}

// queued is how many jobs wait for a batch (tests).
func (c *committer) queued() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.queue)
}

func (c *committer) loop() {
	defer close(c.done)
	batch := make([]*writeJob, 0, maxBatch)
	for {
		select {
		case <-c.wake:
		case <-c.quit:
			answer(c.take(nil, int(^uint(0)>>1)), nil, errClosed)
			return
		}
		for {
			if batch = c.take(batch[:0], maxBatch); len(batch) == 0 {
				break
			}
			c.runBatch(batch)
		}
	}
}

// runBatch runs jobs, and the jobs queued while it runs (up to maxBatch in all), in one
// transaction, and answers each job. While all its callers overlap its commit (runThen) it
// stays open, running the jobs that arrive meanwhile, until one of them waits for the
// COMMIT or c.hold has passed.
func (c *committer) runBatch(jobs []*writeJob) {
	results := make([]jobResult, 0, maxBatch)
	b := &batch{}
	// The transaction belongs to no request: a request's cancellation must not roll back
	// the others' writes.
	tx, err := c.db.BeginTx(context.Background(), nil)
	if err != nil {
		answer(jobs, nil, fmt.Errorf("sqlstore: begin: %w", err))
		return
	}
	var broken error             // the transaction cannot go on: every job fails with this
	var expired <-chan time.Time // c.hold after the batch first waited
	for broken == nil {
		if len(results) == len(jobs) {
			jobs = c.take(jobs, maxBatch-len(jobs)) // the jobs that arrived meanwhile
		}
		if j := len(results); j < len(jobs) {
			r, fatal := runJob(tx, jobs[j])
			results = append(results, r)
			broken = fatal
			if fatal == nil && r.err == nil && r.panic == nil && jobs[j].ran != nil {
				jobs[j].ran <- b
			} else {
				c.mu.Lock()
				b.waiting = true // this job's caller waits for the COMMIT
				c.mu.Unlock()
			}
			continue
		}
		c.mu.Lock()
		keepOpen := !b.waiting && len(jobs) < maxBatch && !c.closed
		c.mu.Unlock()
		if !keepOpen {
			break
		}
		if expired == nil {
			timer := time.NewTimer(c.hold)
			defer timer.Stop()
			expired = timer.C
		}
		select {
		case <-c.wake: // a job arrived, or a caller is done overlapping
			continue
		case <-expired:
		case <-c.quit:
		}
		break
	}
	if broken != nil {
		tx.Rollback()
		answer(jobs, results, broken)
		return
	}
	// (A COMMIT that fails leaves no transaction open on the connection: the driver rolls
	// back what SQLite kept open, e.g. after a deferred constraint failed.)
	start := time.Now()
	err = tx.Commit()
	if c.observe != nil {
		c.observe(len(jobs), time.Since(start), err)
	}
	if err != nil {
		err = fmt.Errorf("sqlstore: commit: %w", err)
	}
	answer(jobs, results, err)
}

// runJob runs one job under its own savepoint. A fatal error means the transaction itself
// failed (a savepoint could not be set, released or rolled back to).
func runJob(tx *sql.Tx, j *writeJob) (r jobResult, fatal error) {
	if err := j.ctx.Err(); err != nil {
		return jobResult{err: err}, nil
	}
	bg := context.Background()
	if _, err := tx.ExecContext(bg, `SAVEPOINT w`); err != nil {
		return jobResult{}, fmt.Errorf("sqlstore: savepoint: %w", err)
	}
	r = call(tx, j.fn)
	if r.err == nil && r.panic == nil {
		if _, err := tx.ExecContext(bg, `RELEASE w`); err != nil {
			return r, fmt.Errorf("sqlstore: release savepoint: %w", err)
		}
		return r, nil
	}
	if _, err := tx.ExecContext(bg, `ROLLBACK TO w`); err != nil {
		return r, fmt.Errorf("sqlstore: roll back to savepoint: %w (after %v)", err, r.err)
	}
	if _, err := tx.ExecContext(bg, `RELEASE w`); err != nil {
		return r, fmt.Errorf("sqlstore: release savepoint: %w", err)
	}
	return r, nil
}

// call runs fn, turning a panic into a result for its caller.
func call(tx *sql.Tx, fn func(*sql.Tx) error) (r jobResult) {
	defer func() {
		if p := recover(); p != nil {
			r = jobResult{panic: p}
		}
	}()
	return jobResult{err: fn(tx)}
}

// answer tells every job of batch its result: results[i] for the jobs that ran, when
// batchErr is nil; otherwise batchErr for every job that ran without failing and for those
// that never ran (a failed job keeps its own error: its writes were undone anyway).
func answer(batch []*writeJob, results []jobResult, batchErr error) {
	for i, j := range batch {
		var r jobResult
		if i < len(results) {
			r = results[i]
		}
		if batchErr != nil && r.err == nil && r.panic == nil {
			r.err = batchErr
		}
		j.result <- r
	}
}
