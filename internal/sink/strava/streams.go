package strava

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"strings"

	"github.com/bandsync/bandsync/internal/errclass"
	"github.com/bandsync/bandsync/internal/sink/strava/api"
)

// StreamKeys are the streams Streams asks for: everything the dashboard
// and the comparison plot draw (strava-api.md §3.5).
var StreamKeys = []string{"time", "distance", "latlng", "altitude", "velocity_smooth", "heartrate", "cadence", "moving"}

// Streams reads an activity's streams (GET /activities/{id}/streams with
// StreamKeys, keyed by type), so the band's samples can be laid over what
// Strava made of them. It is one read request, paced and counted against
// the budget like every other read; errors are classified (a refused
// budget is errclass.Limited, an unknown activity permanent). Streams
// Strava has no data for are nil in the result.
func (s *Sink) Streams(ctx context.Context, activityID string) (*api.StreamSet, error) {
	if _, ok := api.ParseID(activityID); !ok {
		return nil, errclass.Usagef("strava: streams: %q is not an activity ID", activityID)
	}
	q := url.Values{"keys": {strings.Join(StreamKeys, ",")}, "key_by_type": {"true"}}
	var set api.StreamSet
	if err := s.read(ctx, http.MethodGet, "/activities/"+url.PathEscape(activityID)+"/streams", q, nil, &set); err != nil {
		return nil, fmt.Errorf("strava: read streams of activity %s: %w", activityID, err)
	}
	return &set, nil
}

// Activity reads one activity (GET /activities/{id}): its moving and
// elapsed time, distance, calories, device name and sport type as Strava
// computed them. One read request, like Streams.
func (s *Sink) Activity(ctx context.Context, activityID string) (*api.DetailedActivity, error) {
	if _, ok := api.ParseID(activityID); !ok {
		return nil, errclass.Usagef("strava: activity: %q is not an activity ID", activityID)
	}
	var a api.DetailedActivity
	if err := s.read(ctx, http.MethodGet, "/activities/"+url.PathEscape(activityID), nil, nil, &a); err != nil {
		return nil, fmt.Errorf("strava: read activity %s: %w", activityID, err)
	}
	return &a, nil
}
