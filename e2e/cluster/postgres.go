package cluster

import (
	"fmt"
	"net"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"strconv"
	"syscall"
	"testing"
	"time"
)

// pgBin is the folder with initdb and pg_ctl: SIGIL_TEST_PGBIN, or the newest of Debian's
// /usr/lib/postgresql/<version>/bin (what .ci/run installs), or "" when there is none.
func pgBin() string {
	if dir := os.Getenv("SIGIL_TEST_PGBIN"); dir != "" {
		return dir
	}
	found, _ := filepath.Glob("/usr/lib/postgresql/*/bin/initdb")
	best, bestVersion := "", -1
	for _, f := range found {
		dir := filepath.Dir(f)
		if v, err := strconv.Atoi(filepath.Base(filepath.Dir(dir))); err == nil && v > bestVersion {
			best, bestVersion = dir, v
		}
	}
	return best
}

// PG is a throw-away PostgreSQL cluster of one test, for tests that stop and start it.
type PG struct {
	DSN  string
	bin  string // the folder of initdb and pg_ctl
	dir  string
	port string
	t    testing.TB
	cred *syscall.Credential // the postgres user when the test runs as root
}

// OwnPostgres initialises and starts a PostgreSQL cluster in a fresh folder on a free
// loopback port, stopped and removed when the test ends. Without initdb and pg_ctl (see
// pgBin) it skips the test, saying why; under CI=true, where .ci/run installs them, it fails
// instead.
func OwnPostgres(t testing.TB) *PG {
	t.Helper()
	bin := pgBin()
	for _, tool := range []string{"initdb", "pg_ctl"} {
		if _, err := os.Stat(filepath.Join(bin, tool)); bin == "" || err != nil {
			msg := fmt.Sprintf("cluster: no %s in /usr/lib/postgresql/*/bin or SIGIL_TEST_PGBIN (apt-get install postgresql): this test restarts a PostgreSQL of its own", tool)
			if os.Getenv("CI") == "true" {
				t.Fatal(msg)
			}
			t.Skip(msg)
		}
	}
	dir, err := os.MkdirTemp("", "sigil-test-pg-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	pg := &PG{bin: bin, dir: dir, t: t}
	if os.Geteuid() == 0 { // initdb refuses to run as root
		u, err := user.Lookup("postgres")
		if err != nil {
			t.Fatalf("cluster: running as root and there is no postgres user to run PostgreSQL as: %v", err)
		}
		uid, _ := strconv.Atoi(u.Uid)
		gid, _ := strconv.Atoi(u.Gid)
		pg.cred = &syscall.Credential{Uid: uint32(uid), Gid: uint32(gid)}
		if err := os.Chown(dir, uid, gid); err != nil {
			t.Fatal(err)
		}
	}
	_, pg.port, _ = net.SplitHostPort(freeAddr(t))
	pg.DSN = "postgres://postgres@127.0.0.1:" + pg.port + "/postgres?sslmode=disable"
	pg.run("initdb", "-D", filepath.Join(dir, "data"), "-A", "trust", "-U", "postgres", "--no-sync")
	pg.Start()
	t.Cleanup(func() { pg.ctl("stop", "-m", "immediate") })
	if t.Failed() {
		t.FailNow() // it did not start
	}
	return pg
}

// Start starts the server and waits until it accepts connections. Start and Crash may be
// called from any goroutine: a failure fails the test without stopping it.
func (pg *PG) Start() {
	pg.t.Helper()
	if out, err := pg.ctl("start", "-w", "-t", "30", "-l", filepath.Join(pg.dir, "log"),
		"-o", "-p "+pg.port+" -k "+pg.dir+" -c listen_addresses=127.0.0.1 -c fsync=on"); err != nil {
		log, _ := os.ReadFile(filepath.Join(pg.dir, "log"))
		pg.t.Errorf("cluster: pg_ctl start: %v\n%s\n%s", err, out, log)
	}
}

// Crash stops the server the way a crash or a failover does (immediate: no checkpoint, the
// connections cut); Start recovers from the WAL.
func (pg *PG) Crash() {
	pg.t.Helper()
	if out, err := pg.ctl("stop", "-m", "immediate", "-w", "-t", "30"); err != nil {
		pg.t.Errorf("cluster: pg_ctl stop: %v\n%s", err, out)
	}
}

func (pg *PG) ctl(args ...string) ([]byte, error) {
	cmd := exec.Command(filepath.Join(pg.bin, "pg_ctl"), append([]string{"-D", filepath.Join(pg.dir, "data")}, args...)...)
	pg.as(cmd)
	done := make(chan struct{})
	var out []byte
	var err error
	go func() { out, err = cmd.CombinedOutput(); close(done) }()
	select {
	case <-done:
		return out, err
	case <-time.After(45 * time.Second):
		cmd.Process.Kill()
		<-done
		return out, fmt.Errorf("pg_ctl %v: timed out", args)
	}
}

func (pg *PG) run(tool string, args ...string) {
	pg.t.Helper()
	cmd := exec.Command(filepath.Join(pg.bin, tool), args...)
	pg.as(cmd)
	if out, err := cmd.CombinedOutput(); err != nil {
		pg.t.Fatalf("cluster: %s: %v\n%s", tool, err, out)
	}
}

func (pg *PG) as(cmd *exec.Cmd) {
	cmd.Dir = pg.dir
	if pg.cred != nil {
		cmd.SysProcAttr = &syscall.SysProcAttr{Credential: pg.cred}
	}
}
