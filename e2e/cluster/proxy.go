package cluster

import (
	"bytes"
	"context"
	"crypto/tls"
	"errors"
	"io"
	"log"
	"net"
	"net/http"
	"net/http/httputil"
	"net/url"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// Proxy is the load balancer: TLS on the outside, round-robin over the nodes that are up.
// Like a real one it health-checks the nodes (/readyz, every 200 ms) and sends nothing to a
// node that is down (unless all are: see pick); a request whose connection to a node could not even be opened goes to
// the next node, since no node saw it. A request a node received but never answered (the
// node died) fails with 502, as it would behind any load balancer.
type Proxy struct {
	nodes   []*Node
	up      []atomic.Bool
	served  []atomic.Int64 // answers each node gave
	next    atomic.Uint64
	handler http.Handler
}

// NewProxy makes the proxy over nodes (all taken as up until a health check says otherwise)
// and starts its health checks, which stop when the test ends.
func NewProxy(t testing.TB, nodes []*Node) *Proxy {
	p := &Proxy{nodes: nodes, up: make([]atomic.Bool, len(nodes)), served: make([]atomic.Int64, len(nodes))}
	for i := range p.up {
		p.up[i].Store(true)
	}
	transport := &http.Transport{DialContext: (&net.Dialer{Timeout: 2 * time.Second}).DialContext,
		MaxIdleConnsPerHost: 64, IdleConnTimeout: 30 * time.Second, ResponseHeaderTimeout: 20 * time.Second}
	p.handler = &httputil.ReverseProxy{
		Rewrite: func(r *httputil.ProxyRequest) {
			r.Out.URL.Scheme, r.Out.URL.Host = "http", "pending" // chosen in RoundTrip
			r.SetXForwarded()
			r.Out.Host = r.In.Host
		},
		Transport: roundTripper{p: p, next: transport},
		ErrorLog:  log.New(io.Discard, "", 0),
	}
	ctx, stop := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	wg.Go(func() { p.healthChecks(ctx) })
	t.Cleanup(func() { stop(); wg.Wait(); transport.CloseIdleConnections() })
	return p
}

// Serve serves the proxy with TLS on ln until the test ends, through wrap when it is not nil
// (a request log).
func (p *Proxy) Serve(t testing.TB, ln net.Listener, cfg *tls.Config, wrap func(http.Handler) http.Handler) {
	h := p.handler
	if wrap != nil {
		h = wrap(h)
	}
	srv := &http.Server{Handler: h, TLSConfig: cfg, ReadHeaderTimeout: 10 * time.Second,
		ErrorLog: log.New(io.Discard, "", 0)}
	done := make(chan struct{})
	go func() { srv.ServeTLS(ln, "", ""); close(done) }()
	t.Cleanup(func() { srv.Close(); <-done })
}

// Handler is the proxy without TLS, for tests that call it in-process.
func (p *Proxy) Handler() http.Handler { return p.handler }

// Served returns how many answers each node gave, in node order.
func (p *Proxy) Served() []int64 {
	out := make([]int64, len(p.served))
	for i := range p.served {
		out[i] = p.served[i].Load()
	}
	return out
}

// MarkDown takes node i out of rotation until its health check passes again.
func (p *Proxy) MarkDown(i int) { p.up[i].Store(false) }

func (p *Proxy) healthChecks(ctx context.Context) {
	tick := time.NewTicker(200 * time.Millisecond)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
		for i, n := range p.nodes {
			p.up[i].Store(n.Ready())
		}
	}
}

// pick returns the next untried node that is up, or -1. When no node is up it fails open, as
// Envoy's panic mode and most cloud load balancers do: every untried node is a candidate, so
// that clients get the nodes' own answers (503 with Retry-After while the database is down)
// rather than the proxy's.
func (p *Proxy) pick(tried []bool) int {
	start := p.next.Add(1)
	anyUp := false
	for i := range p.up {
		anyUp = anyUp || p.up[i].Load()
	}
	for k := range len(p.nodes) {
		i := int((start + uint64(k)) % uint64(len(p.nodes)))
		if !tried[i] && (p.up[i].Load() || !anyUp) {
			return i
		}
	}
	return -1
}

type roundTripper struct {
	p    *Proxy
	next http.RoundTripper
}

// errNoNode is the proxy's answer when no node is up.
var errNoNode = errors.New("cluster proxy: no node is up")

func (rt roundTripper) RoundTrip(r *http.Request) (*http.Response, error) {
	var body []byte
	if r.Body != nil {
		b, err := io.ReadAll(io.LimitReader(r.Body, 1<<20))
		r.Body.Close()
		if err != nil {
			return nil, err
		}
		body = b
	}
	tried := make([]bool, len(rt.p.nodes))
	for {
		i := rt.p.pick(tried)
		if i < 0 {
			return nil, errNoNode
		}
		tried[i] = true
		out := r.Clone(r.Context())
		out.URL = &url.URL{Scheme: "http", Host: rt.p.nodes[i].Addr, Path: r.URL.Path, RawPath: r.URL.RawPath, RawQuery: r.URL.RawQuery}
		out.Body, out.ContentLength = http.NoBody, 0
		if len(body) > 0 {
			out.Body, out.ContentLength = io.NopCloser(bytes.NewReader(body)), int64(len(body))
		}
		resp, err := rt.next.RoundTrip(out)
		var op *net.OpError
		if err != nil && errors.As(err, &op) && op.Op == "dial" {
			rt.p.MarkDown(i) // never reached the node: the next one gets it
			continue
		}
		if err == nil {
			rt.p.served[i].Add(1)
		}
		return resp, err
	}
}
