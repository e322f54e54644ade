package app

import (
	"bufio"
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/binary"
	"errors"
	"io"
	"net"
	"net/http"
	"os"
	"sync"
	"testing"
	"time"

	"github.com/sigil-idp/sigil/internal/config"
	"github.com/sigil-idp/sigil/internal/password"
)

// serveTest starts an App of cfg (adjusted by edit) on a loopback port and returns it with
// its address; it stops at the end of the test.
func serveTest(t *testing.T, edit func(*config.Config)) (*App, string) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	c := config.Default()
	c.PublicURL = "https://localhost:" + portOf(ln.Addr())
	c.DataDir = t.TempDir()
	if edit != nil {
		edit(&c)
	}
	if err := c.Validate(); err != nil {
		t.Fatal(err)
	}
	a, err := New(t.Context(), c, Options{HashParams: password.Params{Memory: 64, Time: 1, Threads: 1}})
	if err != nil {
		t.Fatal(err)
	}
	ctx, stop := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	wg.Go(func() {
		if err := a.Serve(ctx, ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			t.Errorf("serve: %v", err)
		}
	})
	t.Cleanup(func() { stop(); wg.Wait(); a.Close() })
	return a, ln.Addr().String()
}

func portOf(a net.Addr) string {
	_, port, _ := net.SplitHostPort(a.String())
	return port
}

// healthy sends GET /healthz on the plain connection c and reads the answer, keeping c
// open (keep-alive): afterwards c surely holds a place under the caps.
func healthy(t *testing.T, c net.Conn) {
	t.Helper()
	c.SetDeadline(time.Now().Add(5 * time.Second))
	if _, err := io.WriteString(c, "GET /healthz HTTP/1.1\r\nHost: localhost\r\n\r\n"); err != nil {
		t.Fatal(err)
	}
	resp, err := http.ReadResponse(bufio.NewReader(c), nil)
	if err != nil {
		t.Fatal(err)
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("healthz: %d", resp.StatusCode)
	}
}

// closedByServer reports whether the server closes c without answering within 5 s.
func closedByServer(c net.Conn) bool {
	c.SetDeadline(time.Now().Add(5 * time.Second))
	io.WriteString(c, "GET /healthz HTTP/1.1\r\nHost: localhost\r\n\r\n")
	_, err := c.Read(make([]byte, 1))
	var ne net.Error
	return err != nil && !(errors.As(err, &ne) && ne.Timeout())
}

// TestConnectionCaps opens more connections than each cap allows: the ones within it are
// served, the extra ones are closed at once, and a closed connection frees its place.
func TestConnectionCaps(t *testing.T) {
	for _, tt := range []struct {
		name          string
		total, perIP  int
		open, allowed int
	}{
		{"total", 50, 0, 60, 50},
		{"per address", 0, 5, 8, 5},
	} {
		t.Run(tt.name, func(t *testing.T) {
			_, addr := serveTest(t, func(c *config.Config) {
				c.Transport.MaxConnections, c.Transport.MaxConnectionsPerAddress = tt.total, tt.perIP
			})
			var conns []net.Conn
			t.Cleanup(func() {
				for _, c := range conns {
					c.Close()
				}
			})
			dial := func() net.Conn {
				c, err := net.DialTimeout("tcp", addr, 5*time.Second)
				if err != nil {
					t.Fatal(err)
				}
				conns = append(conns, c)
				return c
			}
			for range tt.allowed {
				healthy(t, dial())
			}
			for i := tt.allowed; i < tt.open; i++ {
				if !closedByServer(dial()) {
					t.Fatalf("connection %d over the cap of %d was not closed", i+1, tt.allowed)
				}
			}
			// A place frees when a connection closes (the server sees it close shortly after).
			conns[0].Close()
			for i := 0; ; i++ {
				c := dial()
				if !closedByServer(c) {
					break
				}
				if i == 50 {
					t.Fatal("closing a connection freed no place")
				}
				time.Sleep(50 * time.Millisecond)
			}
		})
	}
}

// TestHTTP2OverTLS: with TLS the server negotiates h2 by ALPN and serves on it.
func TestHTTP2OverTLS(t *testing.T) {
	a, addr := serveTest(t, func(c *config.Config) { c.TLS.Auto = true })
	pem, err := os.ReadFile(a.CAFile())
	if err != nil {
		t.Fatal(err)
	}
	roots := x509.NewCertPool()
	roots.AppendCertsFromPEM(pem)
	tr := &http.Transport{TLSClientConfig: &tls.Config{RootCAs: roots, ServerName: "localhost"}, Protocols: new(http.Protocols)}
	tr.Protocols.SetHTTP2(true)
	defer tr.CloseIdleConnections()
	resp, err := (&http.Client{Transport: tr, Timeout: 10 * time.Second}).Get("https://" + addr + "/healthz")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.ProtoMajor != 2 || resp.TLS == nil || resp.TLS.NegotiatedProtocol != "h2" {
		t.Fatalf("proto %s (ALPN %q), want HTTP/2 over h2", resp.Proto, resp.TLS.NegotiatedProtocol)
	}

	// The server's first SETTINGS frame announces transport.maxConcurrentStreams.
	conn, err := tls.Dial("tcp", addr, &tls.Config{RootCAs: roots, ServerName: "localhost", NextProtos: []string{"h2"}})
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	conn.SetDeadline(time.Now().Add(5 * time.Second))
	io.WriteString(conn, "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n\x00\x00\x00\x04\x00\x00\x00\x00\x00") // preface, empty SETTINGS
	head := make([]byte, 9)
	if _, err := io.ReadFull(conn, head); err != nil {
		t.Fatal(err)
	}
	if head[3] != 0x4 { // SETTINGS
		t.Fatalf("first frame type %d, want SETTINGS", head[3])
	}
	body := make([]byte, int(head[0])<<16|int(head[1])<<8|int(head[2]))
	if _, err := io.ReadFull(conn, body); err != nil {
		t.Fatal(err)
	}
	streams := -1
	for i := 0; i+6 <= len(body); i += 6 {
		if id := int(body[i])<<8 | int(body[i+1]); id == 0x3 { // SETTINGS_MAX_CONCURRENT_STREAMS
			streams = int(binary.BigEndian.Uint32(body[i+2 : i+6]))
		}
	}
	if want := config.Default().Transport.MaxConcurrentStreams; streams != want {
		t.Errorf("SETTINGS_MAX_CONCURRENT_STREAMS %d, want %d", streams, want)
	}
}
