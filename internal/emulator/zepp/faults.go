package zepp

import (
	"bufio"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"strconv"
	"time"

	"github.com/bandsync/bandsync/internal/source/zepp/api"
)

// FaultKind is what goes wrong.
type FaultKind uint8

// Fault kinds.
const (
	// FaultStatus answers Status (default 500) with a Zepp-style error body
	// and, when set, Retry-After.
	FaultStatus FaultKind = iota
	// FaultReset sends the headers and half the body, then resets the
	// connection (TCP RST).
	FaultReset
	// FaultShortBody promises the whole body in Content-Length, sends half
	// and closes the connection.
	FaultShortBody
	// FaultTruncateJSON sends a complete HTTP response whose JSON body is
	// cut in half.
	FaultTruncateJSON
	// FaultSlow sends half the body, waits Delay, then sends the rest.
	FaultSlow
)

// Fault is one injected failure, applied to the next Count requests whose
// path is Path (default: the data paths history.json and detail.json).
type Fault struct {
	Kind       FaultKind
	Path       string
	Count      int // default 1
	Status     int
	RetryAfter time.Duration
	Delay      time.Duration
}

// Inject queues f; faults apply in the order injected.
func (s *Server) Inject(f Fault) {
	if f.Count <= 0 {
		f.Count = 1
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.faults = append(s.faults, &f)
}

// ClearFaults drops every queued fault.
func (s *Server) ClearFaults() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.faults = nil
}

func (s *Server) takeFaultLocked(path string) *Fault {
	for i, f := range s.faults {
		match := f.Path == path || f.Path == "" && (path == api.PathHistory || path == api.PathDetail)
		if !match {
			continue
		}
		f.Count--
		if f.Count <= 0 {
			s.faults = append(s.faults[:i:i], s.faults[i+1:]...)
		}
		return f
	}
	return nil
}

// apply serves r with the fault; false means "serve normally".
func (f *Fault) apply(w http.ResponseWriter, r *http.Request, next http.Handler) bool {
	if f.Kind == FaultStatus {
		status := f.Status
		if status == 0 {
			status = http.StatusInternalServerError
		}
		if f.RetryAfter > 0 {
			w.Header().Set("Retry-After", strconv.Itoa(int((f.RetryAfter+time.Second-1)/time.Second)))
		}
		// Guess: Zepp's body for a server error; only -50000 is documented (§1.9).
		writeJSON(w, status, api.Envelope{Code: -1, Message: "system error"})
		return true
	}
	rec := httptest.NewRecorder()
	next.ServeHTTP(rec, r)
	body := rec.Body.Bytes()
	half := body[:len(body)/2]
	switch f.Kind {
	case FaultTruncateJSON:
		writeRaw(w, rec.Code, half)
		return true
	case FaultSlow:
		w.Header().Set("Content-Type", "application/json;charset=UTF-8")
		w.Header().Set("Content-Length", strconv.Itoa(len(body)))
		w.WriteHeader(rec.Code)
		w.Write(half) //nolint:errcheck
		if fl, ok := w.(http.Flusher); ok {
			fl.Flush()
		}
		select {
		case <-time.After(f.Delay):
		case <-r.Context().Done():
			return true
		}
		w.Write(body[len(half):]) //nolint:errcheck
		return true
	case FaultReset, FaultShortBody:
		hj, ok := w.(http.Hijacker)
		if !ok {
			http.Error(w, "emulator: cannot hijack", http.StatusInternalServerError)
			return true
		}
		conn, buf, err := hj.Hijack()
		if err != nil {
			return true
		}
		writeHalf(buf, rec.Code, len(body), half)
		if tc, ok := conn.(*net.TCPConn); ok && f.Kind == FaultReset {
			tc.SetLinger(0) //nolint:errcheck // makes Close send RST
		}
		conn.Close()
		return true
	}
	return false
}

func writeHalf(buf *bufio.ReadWriter, status, fullLen int, half []byte) {
	fmt.Fprintf(buf, "HTTP/1.1 %d %s\r\nContent-Type: application/json;charset=UTF-8\r\nContent-Length: %d\r\n\r\n",
		status, http.StatusText(status), fullLen)
	buf.Write(half) //nolint:errcheck
	buf.Flush()     //nolint:errcheck
}
