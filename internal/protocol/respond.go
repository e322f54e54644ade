package protocol

import (
	"context"
	"crypto/rand"
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"
	"time"

	"github.com/sigil-idp/sigil/internal/web"
)

// newGUID returns a random (version 4) GUID.
func newGUID() string {
	b := make([]byte, 16)
	rand.Read(b)
	b[6], b[8] = b[6]&0x0f|0x40, b[8]&0x3f|0x80
	return fmt.Sprintf("%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:])
}

// timestamp formats a time as Entra's error timestamps.
func timestamp(t time.Time) string { return t.UTC().Format("2006-01-02 15:04:05Z") }

// describe renders an error description the way Entra does: "AADSTSnnnnn: text" then the
// trace id, correlation id and timestamp.
func describe(e *Error, ids requestIDs, now time.Time) string {
	text := e.Description
	if e.AADSTS != 0 {
		text = fmt.Sprintf("AADSTS%d: %s", e.AADSTS, text)
	}
	return fmt.Sprintf("%s\r\nTrace ID: %s\r\nCorrelation ID: %s\r\nTimestamp: %s", text, ids.trace, ids.correlation, timestamp(now))
}

// errorBody is the JSON shape of an error, as Entra's token endpoint answers it.
type errorBody struct {
	Error         string `json:"error"`
	Description   string `json:"error_description"`
	Codes         []int  `json:"error_codes,omitempty"`
	Timestamp     string `json:"timestamp"`
	TraceID       string `json:"trace_id"`
	CorrelationID string `json:"correlation_id"`
	Suberror      string `json:"suberror,omitempty"`
	Claims        string `json:"claims,omitempty"`
}

func (s *Server) errorBody(ctx context.Context, e *Error) errorBody {
	ids, now := idsOf(ctx), s.now()
	b := errorBody{Error: e.Code, Description: describe(e, ids, now), Timestamp: timestamp(now),
		TraceID: ids.trace, CorrelationID: ids.correlation, Suberror: e.Suberror, Claims: e.Claims}
	if e.AADSTS != 0 {
		b.Codes = []int{e.AADSTS}
	}
	return b
}

// writeJSON answers v as JSON, never cached.
func writeJSON(w http.ResponseWriter, status int, v any) {
	body, err := json.Marshal(v)
	if err != nil {
		http.Error(w, "internal error", http.StatusInternalServerError)
		return
	}
	h := w.Header()
	h.Set("Content-Type", "application/json; charset=utf-8")
	h.Set("Cache-Control", "no-store")
	h.Set("Pragma", "no-cache")
	w.WriteHeader(status)
	w.Write(body)
}

// failJSON answers err as Entra's JSON error shape.
func (s *Server) failJSON(w http.ResponseWriter, r *http.Request, where string, err error) {
	e := asError(err)
	s.logError(r.Context(), where, e)
	retryAfter(w, e)
	writeJSON(w, e.Status, s.errorBody(r.Context(), e))
}

// failPage answers err as an error page carrying data-error-code, for errors that must not
// go to an untrusted redirect URI.
func (s *Server) failPage(w http.ResponseWriter, r *http.Request, where string, err error) {
	e := asError(err)
	s.logError(r.Context(), where, e)
	retryAfter(w, e)
	ids, now := idsOf(r.Context()), s.now()
	code := ""
	if e.AADSTS != 0 {
		code = fmt.Sprintf("AADSTS%d", e.AADSTS)
	}
	page := web.ErrorPage{Code: code, Error: e.Code, Message: e.Description,
		TraceID: ids.trace, CorrelationID: ids.correlation, Timestamp: timestamp(now)}
	if s.dev {
		page.DevNotes = e.DevNotes
	}
	s.pages.Error(w, e.Status, page)
}

// retryAfter tells the client when to try again: e.RetryAfter when set (a throttle that
// knows), else on a 503 (temporarily_unavailable) retryAfterSeconds.
func retryAfter(w http.ResponseWriter, e *Error) {
	switch {
	case e.RetryAfter > 0:
		w.Header().Set("Retry-After", strconv.Itoa(e.RetryAfter))
	case e.Status == http.StatusServiceUnavailable:
		w.Header().Set("Retry-After", retryAfterSeconds)
	}
}
