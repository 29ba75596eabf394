package cli

import (
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"sync"
	"sync/atomic"
	"testing"
)

// The clients' connection pool keeps a connection for each of the
// workers that use it at once: however many requests they make, they open
// about as many connections as there are workers, where Go's default pool
// (two idle per host) keeps closing connections and opening new ones.
func TestTransportReusesConnections(t *testing.T) {
	var opened atomic.Int64
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.WriteString(w, "ok")
	}))
	srv.Config.ConnState = func(_ net.Conn, s http.ConnState) {
		if s == http.StateNew {
			opened.Add(1)
		}
	}
	srv.Start()
	defer srv.Close()

	const workers, each = 8, 200
	client := &http.Client{Transport: transport}
	var start sync.WaitGroup
	start.Add(1)
	var wg sync.WaitGroup
	for range workers {
		wg.Go(func() {
			start.Wait()
			for range each {
				resp, err := client.Get(srv.URL)
				if err != nil {
					t.Error(err)
					return
				}
				io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
			}
		})
	}
	start.Done()
	wg.Wait()
	transport.CloseIdleConnections()
	if n := opened.Load(); n > 2*workers {
		t.Errorf("%d requests from %d workers opened %d connections, want at most %d (each dial a request waits for, and one more that a race can make)", workers*each, workers, n, 2*workers)
	}
}
