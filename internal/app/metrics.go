package app

import (
	"context"
	"net/http"
	"strconv"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/sigil-idp/sigil/internal/protocol"
	"github.com/sigil-idp/sigil/internal/store"
	"github.com/sigil-idp/sigil/internal/tokens"
)

// metrics are the App's Prometheus metrics, in a registry of its own (two Apps in one process,
// as in tests, do not share counters), served at the admin listener's /metrics.
type metrics struct {
	registry *prometheus.Registry
	requests *prometheus.CounterVec
	latency  *prometheus.HistogramVec
	tokens   *prometheus.CounterVec
	signing  *prometheus.HistogramVec
	store    *prometheus.HistogramVec
	storeErr *prometheus.CounterVec
	batch    prometheus.Histogram
	events   *prometheus.CounterVec
}

func newMetrics() *metrics {
	m := &metrics{
		registry: prometheus.NewRegistry(),
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "sigil_http_requests_total",
			Help: "Requests answered, by route pattern, status and AADSTS code of an error answer (0: none)."},
			[]string{"route", "status", "aadsts"}),
		latency: prometheus.NewHistogramVec(prometheus.HistogramOpts{Name: "sigil_http_request_duration_seconds",
			Help:    "How long requests took to answer, by route pattern.",
			Buckets: []float64{.001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5}}, []string{"route"}),
		tokens: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "sigil_tokens_issued_total",
			Help: "Successful token responses, by grant type and the access token's resource."}, []string{"grant_type", "resource"}),
		signing: prometheus.NewHistogramVec(prometheus.HistogramOpts{Name: "sigil_token_signing_duration_seconds",
			Help:    "How long one token signature took, by algorithm (RS256, ES256).",
			Buckets: []float64{.00005, .0001, .00025, .0005, .001, .002, .004, .008, .016, .032}}, []string{"alg"}),
	}
	m.store = prometheus.NewHistogramVec(prometheus.HistogramOpts{Name: "sigil_store_statement_duration_seconds",
		Help:    "How long the store's statements took, by their first word (SELECT, INSERT, UPDATE, DELETE, …).",
		Buckets: []float64{.0001, .0005, .001, .0025, .005, .01, .025, .05, .1, .5, 1}}, []string{"verb"})
	m.storeErr = prometheus.NewCounterVec(prometheus.CounterOpts{Name: "sigil_store_errors_total",
		Help: "Store statements that failed, by their first word."}, []string{"verb"})
	m.batch = prometheus.NewHistogram(prometheus.HistogramOpts{Name: "sigil_store_commit_batch_writes",
		Help:    "SQLite: how many requests' write transactions each COMMIT (one fsync) carried.",
		Buckets: []float64{1, 2, 4, 8, 16, 32, 64, 128}})
	m.events = prometheus.NewCounterVec(prometheus.CounterOpts{Name: "sigil_security_events_total",
		Help: "Security events, by kind: signin.lockout and clientauth.throttled are the throttle's."}, []string{"event"})
	m.registry.MustRegister(m.requests, m.latency, m.tokens, m.signing, m.store, m.storeErr, m.batch, m.events, collectors.NewGoCollector(),
		collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	return m
}

// statement records one store statement.
func (m *metrics) statement(verb string, d time.Duration, err error) {
	m.store.WithLabelValues(verb).Observe(d.Seconds())
	if err != nil {
		m.storeErr.WithLabelValues(verb).Inc()
	}
}

// committed records the size of one group commit.
func (m *metrics) committed(writes int) { m.batch.Observe(float64(writes)) }

// securityEvent counts one security event.
func (m *metrics) securityEvent(kind string) { m.events.WithLabelValues(kind).Inc() }

// signed records one token signature.
func (m *metrics) signed(alg tokens.Algorithm, d time.Duration) {
	m.signing.WithLabelValues(string(alg)).Observe(d.Seconds())
}

// watchKeys publishes the age of each signing key in each state, read when scraped.
func (m *metrics) watchKeys(keys func(context.Context) ([]tokens.KeyInfo, error)) {
	m.registry.MustRegister(prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "sigil_signing_key_current_age_seconds",
		Help: "How long the current signing key has signed (it rotates after signingKeys.rotationPeriod)."}, func() float64 {
		return keyAge(keys, store.KeyCurrent)
	}), prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "sigil_signing_key_next_published_seconds",
		Help: "How long the next signing key has been published (it may sign after signingKeys.publishAhead)."}, func() float64 {
		return keyAge(keys, store.KeyNext)
	}))
}

// keyAge is the time since the key in state entered it — of the algorithms' lineages (RS256,
// ES256), the oldest; -1 when there is none or the store cannot say.
func keyAge(keys func(context.Context) ([]tokens.KeyInfo, error), state store.KeyState) float64 {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	all, err := keys(ctx)
	if err != nil {
		return -1
	}
	age := -1.0
	for _, k := range all {
		if k.State == state {
			age = max(age, time.Since(k.StateSince).Seconds())
		}
	}
	return age
}

// observe records one answered request.
func (m *metrics) observe(info protocol.RequestInfo) {
	route := info.Route
	if route == "" || route == "/" {
		route = "none" // unrouted paths are not labels: anyone can invent them
	}
	m.requests.WithLabelValues(route, strconv.Itoa(info.Status), strconv.Itoa(info.AADSTS)).Inc()
	m.latency.WithLabelValues(route).Observe(info.Duration.Seconds())
}

// tokenIssued records one successful token response.
func (m *metrics) tokenIssued(grantType, resource string) {
	m.tokens.WithLabelValues(grantType, resource).Inc()
}

// handler serves the registry in Prometheus's text format.
func (m *metrics) handler() http.Handler {
	return promhttp.HandlerFor(m.registry, promhttp.HandlerOpts{})
}
