package app

import (
	"net"
	"sync"
)

// limitListener caps the connections a listener keeps open: at most total in all, and at most
// perAddress from one peer IP address (0 means no cap). A connection over a cap is closed as
// soon as it is accepted, before any TLS handshake or HTTP parsing, so a flood of idle
// connections costs a file descriptor for a moment and no goroutine or buffer.
type limitListener struct {
	net.Listener
	total, perAddress int

	mu     sync.Mutex
	open   int
	byAddr map[string]int
	// refused counts connections closed over a cap (for tests and logs).
	refused int
}

// limitConnections wraps ln with the caps; total <= 0 leaves ln as it is unless perAddress
// is set.
func limitConnections(ln net.Listener, total, perAddress int) net.Listener {
	if total <= 0 && perAddress <= 0 {
		return ln
	}
	return &limitListener{Listener: ln, total: total, perAddress: perAddress, byAddr: map[string]int{}}
}

// Accept returns the next connection within the caps, closing those over them.
func (l *limitListener) Accept() (net.Conn, error) {
	for {
		c, err := l.Listener.Accept()
		if err != nil {
			return nil, err
		}
		addr := peerIP(c.RemoteAddr())
		if l.admit(addr) {
			return &limitedConn{Conn: c, release: func() { l.release(addr) }}, nil
		}
		c.Close()
	}
}

// admit counts a connection from addr when it is within the caps.
func (l *limitListener) admit(addr string) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.total > 0 && l.open >= l.total || l.perAddress > 0 && l.byAddr[addr] >= l.perAddress {
		l.refused++
		return false
	}
	l.open++
	l.byAddr[addr]++
	return true
}

// release forgets a closed connection from addr.
func (l *limitListener) release(addr string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.open--
	if l.byAddr[addr]--; l.byAddr[addr] <= 0 {
		delete(l.byAddr, addr)
	}
}

// limitedConn releases its place once, on the first Close.
type limitedConn struct {
	net.Conn
	once    sync.Once
	release func()
}

// Close closes the connection and frees its place under the caps.
func (c *limitedConn) Close() error {
	err := c.Conn.Close()
	c.once.Do(c.release)
	return err
}

// peerIP is the IP address of a connection's peer, the key of the per-address cap.
func peerIP(a net.Addr) string {
	if t, ok := a.(*net.TCPAddr); ok {
		return t.IP.String()
	}
	host, _, err := net.SplitHostPort(a.String())
	if err != nil {
		return a.String()
	}
	return host
}
