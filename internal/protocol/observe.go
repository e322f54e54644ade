package protocol

import (
	"context"
	"fmt"
	"net/http"
	"time"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/trace"

	"github.com/sigil-idp/sigil/internal/tokens"
)

// RequestInfo is what Options.Observe learns of every request once it is answered: the route
// pattern that served it ("POST /{tenant}/oauth2/v2.0/token"; "" for no route), the status,
// the AADSTS code of an error answer (0 for none), and how long it took.
type RequestInfo struct {
	Route    string
	Method   string
	Path     string // without the query, which may carry codes and tokens
	Status   int
	AADSTS   int
	Duration time.Duration
	TraceID  string // the x-ms-request-id answered, also the trace_id of error bodies
	Address  string // the client's address
}

// outcome collects what a request's handlers learn for RequestInfo; requestIDs carries it.
type outcome struct {
	aadsts int
}

// statusWriter remembers the status a handler answered.
type statusWriter struct {
	http.ResponseWriter
	status int
}

func (w *statusWriter) WriteHeader(status int) {
	if w.status == 0 {
		w.status = status
	}
	w.ResponseWriter.WriteHeader(status)
}

func (w *statusWriter) Write(b []byte) (int, error) {
	if w.status == 0 {
		w.status = http.StatusOK
	}
	return w.ResponseWriter.Write(b)
}

// Unwrap lets http.ResponseController reach the connection.
func (w *statusWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

// observed reports a request to the observer once next has answered it.
func (s *Server) observed(w http.ResponseWriter, r *http.Request, next http.Handler, o *outcome, span trace.Span) {
	start := time.Now()
	sw := &statusWriter{ResponseWriter: w}
	next.ServeHTTP(sw, r)
	if sw.status == 0 {
		sw.status = http.StatusOK
	}
	if span != nil {
		if r.Pattern != "" && r.Pattern != "/" {
			span.SetName(r.Pattern)
		}
		span.SetAttributes(attribute.String("http.route", r.Pattern), attribute.Int("http.response.status_code", sw.status),
			attribute.Int("sigil.aadsts", o.aadsts))
		if sw.status >= 500 {
			span.SetStatus(codes.Error, http.StatusText(sw.status))
		}
		span.End()
	}
	if s.observe == nil {
		return
	}
	ids := idsOf(r.Context())
	s.observe(RequestInfo{Route: r.Pattern, Method: r.Method, Path: r.URL.Path, Status: sw.status, AADSTS: o.aadsts,
		Duration: time.Since(start), TraceID: ids.trace, Address: ids.addr})
}

// traceGUID spells a trace id as the GUID Entra-shaped errors carry in trace_id.
func traceGUID(id trace.TraceID) string {
	return fmt.Sprintf("%x-%x-%x-%x-%x", id[0:4], id[4:6], id[6:8], id[8:10], id[10:16])
}

// sign signs claims with alg's current key, as a span of the request when tracing.
func (s *Server) sign(ctx context.Context, alg tokens.Algorithm, claims any) (string, error) {
	if s.tracer != nil {
		_, span := s.tracer.Start(ctx, "sign "+string(alg))
		defer span.End()
	}
	return s.keys.SignWith(alg, claims)
}
