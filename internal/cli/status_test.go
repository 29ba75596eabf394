package cli

import (
	"bytes"
	"context"
	"strings"
	"testing"
	"time"
)

// Uploads left without an answer by a stopped run are told apart, with
// when they are looked for again.
func TestStatusTellsUnansweredUploads(t *testing.T) {
	later := time.Now().Add(7 * time.Minute)
	for _, c := range []struct {
		name    string
		recheck *time.Time
		want    string
	}{
		{"waiting", &later, "from " + later.Local().Format("15:04") + " a sync looks for them on strava and sends again those it lacks"},
		{"due", nil, "the next sync looks for them on strava and sends again those it lacks"},
	} {
		st := statusJSON{Sinks: map[string]sinkStatusJSON{"strava": {Done: 5, Uploading: 3, Unanswered: 2, UnansweredRecheck: c.recheck}}}
		var out bytes.Buffer
		if err := printStatus(context.Background(), &Factory{}, &out, st); err != nil {
			t.Fatal(err)
		}
		got := out.String()
		if !strings.Contains(got, "3 uploading (1 confirmed next run)") ||
			!strings.Contains(got, "2 of them were being sent when bandsync stopped, before strava answered: "+c.want) {
			t.Errorf("%s:\n%s", c.name, got)
		}
	}
}
