package app

import (
	"net/http"
	"strconv"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/sigil-idp/sigil/internal/protocol"
)

// metrics are the App's Prometheus metrics, in a registry of its own (two Apps in one process,
// as in tests, do not share counters), served at the admin listener's /metrics.
type metrics struct {
	registry *prometheus.Registry
	requests *prometheus.CounterVec
	latency  *prometheus.HistogramVec
	tokens   *prometheus.CounterVec
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
	}
	m.registry.MustRegister(m.requests, m.latency, m.tokens, collectors.NewGoCollector(),
		collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	return m
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
