package e2e

import (
	"fmt"
	"os"
	"strconv"
	"testing"

	"github.com/sigil-idp/sigil/e2e/browser"
)

// TestMain prints how many browser tests ran and why any were skipped. `go test ./...` shows a
// passing package's output only with -v, and a skipped browser test looks like a pass, so
// without -v the line goes straight to the go command's standard error as well.
func TestMain(m *testing.M) {
	code := m.Run()
	if line := browser.Summary(); line != "" {
		line = "e2e: " + line
		fmt.Println(line)
		if code == 0 && !testing.Verbose() {
			tellGoCommand(line)
		}
	}
	os.Exit(code)
}

// tellGoCommand writes line to the standard error of the process that ran this test binary
// (the go command) when that is a terminal or a pipe (a CI log), where it shows; it does
// nothing where that cannot be opened (not Linux, another parent) or is a regular file.
func tellGoCommand(line string) {
	path := "/proc/" + strconv.Itoa(os.Getppid()) + "/fd/2"
	if info, err := os.Stat(path); err != nil || info.Mode().IsRegular() {
		// A file: a second writer would be overwritten by the go command's next line (or
		// overwrite it), so the line stays in the package's own output (go test -v shows it).
		return
	}
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_APPEND, 0)
	if err != nil {
		return
	}
	defer f.Close()
	fmt.Fprintln(f, line)
}
