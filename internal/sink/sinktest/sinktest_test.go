package sinktest_test

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/bandsync/bandsync/internal/sink"
	"github.com/bandsync/bandsync/internal/sink/sinktest"
	"github.com/bandsync/bandsync/internal/workout"
)

// memSink is a minimal in-memory sink. flaw breaks one rule on purpose, so
// the tests below can show the suite catches it.
type memSink struct {
	flaw     string
	accepted bool // Put answers Accepted; Confirm resolves on the second call

	mu      sync.Mutex
	acts    []sink.Activity
	pending map[string]sink.Activity
	polls   map[string]int
	n       int
}

var (
	_ sink.Sink      = (*memSink)(nil)
	_ sink.Confirmer = (*memSink)(nil)
)

func (m *memSink) Name() string { return "memory" }

func (m *memSink) Put(ctx context.Context, w *workout.Workout, key string) (sink.Result, error) {
	if err := ctx.Err(); err != nil && m.flaw != "ignores-ctx" {
		return sink.Result{}, err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	for _, a := range m.acts {
		if a.ExternalID == key && m.flaw != "second-copy" {
			return sink.Result{Outcome: sink.Duplicate, ActivityID: a.ID, MatchedBy: "external_id"}, nil
		}
	}
	m.n++
	a := sink.Activity{
		ID: fmt.Sprint(m.n), Start: w.Start, Elapsed: w.Elapsed(), Moving: w.Moving(),
		Distance: w.Distance(), SportType: w.Sport.String(), ExternalID: key,
	}
	switch m.flaw {
	case "elapsed-as-moving":
		a.Moving = a.Elapsed
	case "local-start":
		a.Start = w.LocalStart()
	}
	if m.accepted {
		if m.pending == nil {
			m.pending, m.polls = map[string]sink.Activity{}, map[string]int{}
		}
		up := "u" + a.ID
		m.pending[up] = a
		return sink.Result{Outcome: sink.Accepted, UploadID: up}, nil
	}
	m.acts = append(m.acts, a)
	return sink.Result{Outcome: sink.Created, ActivityID: a.ID}, nil
}

func (m *memSink) Confirm(ctx context.Context, ps []sink.Pending) ([]sink.Confirmation, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	var out []sink.Confirmation
	for _, p := range ps {
		c := sink.Confirmation{Pending: p, Result: sink.Result{Outcome: sink.Accepted, UploadID: p.UploadID}}
		m.polls[p.UploadID]++
		if a, ok := m.pending[p.UploadID]; ok && m.polls[p.UploadID] > 1 {
			delete(m.pending, p.UploadID)
			m.acts = append(m.acts, a)
			c.Result = sink.Result{Outcome: sink.Created, ActivityID: a.ID, UploadID: p.UploadID}
		}
		out = append(out, c)
	}
	return out, nil
}

func (m *memSink) List(ctx context.Context, win sink.Window) ([]sink.Activity, error) {
	if err := ctx.Err(); err != nil && m.flaw != "ignores-ctx" {
		return nil, err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	var out []sink.Activity
	for _, a := range m.acts {
		in := (win.After.IsZero() || !a.Start.Before(win.After)) && (win.Before.IsZero() || a.Start.Before(win.Before))
		if m.flaw == "closed-window" {
			in = (win.After.IsZero() || !a.Start.Before(win.After)) && (win.Before.IsZero() || !a.Start.After(win.Before))
		}
		if in {
			out = append(out, a)
		}
	}
	if m.flaw != "unsorted" {
		sort.Slice(out, func(i, j int) bool { return out[i].Start.Before(out[j].Start) })
	} else {
		sort.Slice(out, func(i, j int) bool { return out[i].Start.After(out[j].Start) })
	}
	return out, nil
}

func TestMemory(t *testing.T) {
	sinktest.Run(t, func(*testing.T) sink.Sink { return &memSink{} })
}

func TestMemoryAccepted(t *testing.T) {
	sinktest.Run(t, func(*testing.T) sink.Sink { return &memSink{accepted: true} },
		sinktest.Hooks{ConfirmEvery: time.Millisecond})
}

// TestFlawed runs the suite on a flawed sink in a child process (a failing
// suite fails its *testing.T, which cannot be caught in-process) and checks
// that it fails for the right reason.
func TestFlawed(t *testing.T) {
	if flaw := os.Getenv("SINKTEST_FLAW"); flaw != "" {
		t.Skip("child process")
	}
	for flaw, want := range map[string]string{
		"second-copy":       "after two Puts of one key",
		"closed-window":     "outside the window",
		"unsorted":          "not oldest first",
		"ignores-ctx":       "canceled context",
		"elapsed-as-moving": "Moving",
		"local-start":       "not in UTC",
	} {
		t.Run(flaw, func(t *testing.T) {
			cmd := exec.Command(os.Args[0], "-test.run=^TestFlawedChild$", "-test.count=1")
			cmd.Env = append(os.Environ(), "SINKTEST_FLAW="+flaw)
			out, err := cmd.CombinedOutput()
			if err == nil {
				t.Fatalf("the suite passed a sink with flaw %s", flaw)
			}
			if !strings.Contains(string(out), want) {
				t.Errorf("the suite failed without saying %q:\n%s", want, out)
			}
		})
	}
}

func TestFlawedChild(t *testing.T) {
	flaw := os.Getenv("SINKTEST_FLAW")
	if flaw == "" {
		t.Skip("run by TestFlawed")
	}
	sinktest.Run(t, func(*testing.T) sink.Sink { return &memSink{flaw: flaw} })
}
