package browser

import (
	"bytes"
	"os"
	"strconv"
	"time"
)

// killLeftovers kills the processes that still run with dir as their
// --user-data-dir, and looks again until it finds none for a few passes in a
// row (at most 2 s). Chromium's helper processes (zygote, network service,
// crashpad) can outlive the browser process for a moment and write into the
// profile while the test's TempDir cleanup removes it. The profile directory
// is unique to one Browser, so this only ever finds that browser's processes.
// Where /proc does not exist it does nothing.
func killLeftovers(dir string) {
	want := []byte("--user-data-dir=" + dir)
	deadline := time.Now().Add(2 * time.Second)
	for quiet := 0; quiet < 3 && time.Now().Before(deadline); time.Sleep(10 * time.Millisecond) {
		if killUsing(want) == 0 {
			quiet++
		} else {
			quiet = 0
		}
	}
}

// killUsing kills each process that has the argument want on its command
// line, and returns how many it found.
func killUsing(want []byte) int {
	entries, err := os.ReadDir("/proc")
	if err != nil {
		return 0
	}
	n := 0
	for _, e := range entries {
		pid, err := strconv.Atoi(e.Name())
		if err != nil || pid == os.Getpid() {
			continue
		}
		cmdline, err := os.ReadFile("/proc/" + e.Name() + "/cmdline")
		if err != nil {
			continue
		}
		for arg := range bytes.SplitSeq(cmdline, []byte{0}) {
			if bytes.Equal(arg, want) {
				if proc, err := os.FindProcess(pid); err == nil {
					_ = proc.Kill()
				}
				n++
				break
			}
		}
	}
	return n
}
