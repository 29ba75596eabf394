package strava

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"time"

	"github.com/bandsync/bandsync/internal/errclass"
	"github.com/bandsync/bandsync/internal/sink"
	"github.com/bandsync/bandsync/internal/sink/strava/api"
)

// Confirm bookkeeping.
const (
	// pollGap is the least time between two GET /uploads/{id}: Strava
	// "recommends polling no more than once a second".
	pollGap = time.Second
	// listSlack widens the listing before the oldest pending start: an
	// athlete who hides start times gets them as midnight + 1 s (§3.1).
	listSlack = 24 * time.Hour
)

// DefaultLostAfter is Options.LostAfter's default.
const DefaultLostAfter = 10 * time.Minute

// Confirm implements sink.Confirmer. It lists the athlete's activities once
// from the oldest pending start (paging only until every pending upload is
// found) and matches them by external_id or upload_id. Uploads the listing
// does not show are polled with GET /uploads/{id} once each, no more than
// once a second, and only when Options.ProcessingTime has passed since they
// were sent; the rest stay Accepted. A pending upload with no upload ID (its
// answer was lost) that is still missing Options.LostAfter after it was sent is
// reported with a NotFound error: it is safe to upload again.
//
// When an activity becomes known, Confirm fixes it with one PUT where
// Strava's guess differs from the workout (sport_type, trainer), where
// Options.GearID is set, or to mute a workout older than seven days
// (Options.BackfillMute); a plain recent run needs none.
//
// Confirm returns one Confirmation per pending upload, in order. When the
// rate limit stops it, it returns what it resolved, the rest as Accepted,
// and the errclass.Limited error. A fix-up that fails otherwise does not
// change the confirmations: its error is returned beside them (a transient
// one is retried by the next Confirm).
func (s *Sink) Confirm(ctx context.Context, pending []sink.Pending) ([]sink.Confirmation, error) {
	out := make([]sink.Confirmation, len(pending))
	for i, p := range pending {
		out[i] = sink.Confirmation{Pending: p, Result: sink.Result{Outcome: sink.Accepted, UploadID: p.UploadID}}
	}
	var errs []error
	if err := s.retryFixups(ctx); err != nil {
		if stops(ctx, err) {
			return out, err
		}
		errs = append(errs, err)
	}
	if len(pending) == 0 {
		return out, errors.Join(errs...)
	}
	found, err := s.listPending(ctx, pending)
	if err != nil {
		return out, fmt.Errorf("strava: confirm uploads: %w", err)
	}
	now := s.clock.Now()
	for i, p := range pending {
		if a, ok := found[i]; ok {
			out[i].Result = sink.Result{Outcome: sink.Created, ActivityID: api.FormatID(a.ID), UploadID: uploadID(a)}
			if out[i].Result.UploadID == "" {
				out[i].Result.UploadID = p.UploadID
			}
			s.resolved(p.Key)
			if err := s.fixup(ctx, p.Key, a); err != nil {
				if stops(ctx, err) {
					return out, err
				}
				errs = append(errs, err)
			}
			continue
		}
		if p.UploadID == "" {
			if now.Sub(p.Sent) >= s.opt.LostAfter {
				out[i].Err = errclass.Missing(fmt.Errorf("strava: %s is not on Strava %s after its upload answer was lost; safe to upload again", p.Key, s.opt.LostAfter))
				s.resolved(p.Key)
			}
			continue
		}
		if now.Sub(p.Sent) < s.opt.ProcessingTime {
			continue
		}
		c, err := s.poll(ctx, p)
		if c.Result.Outcome != sink.Accepted || c.Err != nil {
			out[i] = c
			s.resolved(p.Key)
		}
		if err != nil {
			if stops(ctx, err) {
				return out, err
			}
			// A failed poll leaves the upload pending for the next Confirm;
			// a failed fix-up is queued.
			errs = append(errs, err)
		}
	}
	return out, errors.Join(errs...)
}

// stops reports whether err ends a Confirm early: the rate limit, the
// credentials, or the caller's context.
func stops(ctx context.Context, err error) bool {
	c := errclass.ClassOf(err)
	return ctx.Err() != nil || c == errclass.RateLimited || c == errclass.ReAuth
}

// resolved forgets an upload this process posted, or lost the answer to.
func (s *Sink) resolved(key string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.posted, key)
	delete(s.unknown, key)
}

// listPending lists from the oldest pending start and returns the activity
// of each pending upload it finds, by index.
func (s *Sink) listPending(ctx context.Context, pending []sink.Pending) (map[int]api.SummaryActivity, error) {
	oldest := pending[0].Start
	byKey := map[string]int{}
	byUpload := map[int64]int{}
	for i, p := range pending {
		if p.Start.Before(oldest) || oldest.IsZero() {
			oldest = p.Start
		}
		byKey[p.Key] = i
		if id, ok := api.ParseID(p.UploadID); ok {
			byUpload[id] = i
		}
	}
	found := map[int]api.SummaryActivity{}
	match := func(a api.SummaryActivity) {
		if i, ok := byKey[keyOf(a.External())]; ok {
			found[i] = a
		} else if i, ok := byUpload[a.UploadID]; ok && a.UploadID != 0 {
			found[i] = a
		}
	}
	after := oldest.Add(-listSlack)
	q := url.Values{"per_page": {strconv.Itoa(perPage)}, "after": {strconv.FormatInt(after.Unix(), 10)}}
	seen := 0
	all, err := s.listPages(ctx, q, func(all []api.SummaryActivity) bool {
		for _, a := range all[seen:] {
			match(a)
		}
		seen = len(all)
		return len(found) == len(pending)
	})
	s.mu.Lock()
	for i := range all {
		s.known.add(&all[i])
	}
	if err == nil {
		s.covered = append(s.covered, sink.Window{After: after.Add(time.Second)})
	}
	s.mu.Unlock()
	return found, err
}

// poll asks for one upload's status, at most once a second overall.
func (s *Sink) poll(ctx context.Context, p sink.Pending) (sink.Confirmation, error) {
	c := sink.Confirmation{Pending: p, Result: sink.Result{Outcome: sink.Accepted, UploadID: p.UploadID}}
	s.mu.Lock()
	wait := s.polled.Add(pollGap).Sub(s.clock.Now())
	s.mu.Unlock()
	if wait > 0 {
		if err := s.clock.Sleep(ctx, wait); err != nil {
			return c, err
		}
	}
	s.mu.Lock()
	s.polled = s.clock.Now()
	s.mu.Unlock()
	var up api.Upload
	err := s.read(ctx, http.MethodGet, "/uploads/"+url.PathEscape(p.UploadID), nil, nil, &up)
	switch {
	case errclass.ClassOf(err) == errclass.NotFound:
		c.Err = errclass.Missing(fmt.Errorf("strava: upload %s of %s not found", p.UploadID, p.Key))
		return c, nil
	case err != nil:
		return c, err
	}
	if msg := up.ErrorText(); msg != "" {
		if id, ok := api.ParseDuplicate(msg); ok && id > 0 {
			c.Result = sink.Result{Outcome: sink.Duplicate, ActivityID: api.FormatID(id), UploadID: p.UploadID, MatchedBy: "duplicate-error"}
			return c, nil
		}
		c.Err = errclass.Fatal(fmt.Errorf("strava rejected %s: %s", p.Key, msg))
		return c, nil
	}
	if id := up.Activity(); id > 0 {
		c.Result = sink.Result{Outcome: sink.Created, ActivityID: api.FormatID(id), UploadID: p.UploadID}
		return c, s.fixupByID(ctx, p.Key, c.Result.ActivityID)
	}
	if up.Status == api.StatusDeleted {
		c.Err = errclass.Fatal(fmt.Errorf("strava: the activity made from %s was deleted on Strava", p.Key))
	}
	return c, nil
}

// fixupByID reads an activity whose guesses are unknown and fixes it up.
// It costs a read, so it is skipped when nothing about the workout is known
// (a resumed upload nobody called Remember for).
func (s *Sink) fixupByID(ctx context.Context, key, activityID string) error {
	s.mu.Lock()
	_, ok := s.intents[key]
	s.mu.Unlock()
	if !ok {
		return nil
	}
	var a api.DetailedActivity
	if err := s.read(ctx, http.MethodGet, "/activities/"+url.PathEscape(activityID), nil, nil, &a); err != nil {
		return fmt.Errorf("strava: read activity %s: %w", activityID, err)
	}
	return s.fixup(ctx, key, a.SummaryActivity)
}

// fixup PUTs what activity a needs to look like key's workout, if anything.
// The intent is then done with (a fix-up the rate limit refuses is queued
// with its own copy), so a long backfill does not keep one per workout.
func (s *Sink) fixup(ctx context.Context, key string, a api.SummaryActivity) error {
	s.mu.Lock()
	in, ok := s.intents[key]
	delete(s.intents, key)
	s.mu.Unlock()
	if !ok {
		return nil
	}
	return s.apply(ctx, fixup{a: a, in: in})
}

// changes returns the update that makes a match the intent.
func (s *Sink) changes(f fixup) api.UpdatableActivity {
	var u api.UpdatableActivity
	yes := true
	if f.a.SportType != f.in.sport {
		u.SportType = f.in.sport
	}
	if f.in.trainer && !f.a.Trainer {
		u.Trainer = &yes
	}
	if g := s.opt.GearID; g != "" && f.a.Gear() != g {
		u.GearID = &g
	}
	if s.opt.BackfillMute && !f.a.HideFromHome && s.clock.Now().Sub(f.in.start) > muteAge {
		u.HideFromHome = &yes
	}
	return u
}

func (s *Sink) apply(ctx context.Context, f fixup) error {
	u := s.changes(f)
	if u.Empty() {
		s.mu.Lock()
		delete(s.fixes, f.a.ID)
		s.mu.Unlock()
		return nil
	}
	body, err := json.Marshal(u)
	if err != nil {
		return errclass.Fatal(err)
	}
	var got api.DetailedActivity
	err = s.read(ctx, http.MethodPut, "/activities/"+api.FormatID(f.a.ID), nil, body, &got)
	s.mu.Lock()
	defer s.mu.Unlock()
	if err != nil {
		if errclass.ClassOf(err) == errclass.RateLimited || errclass.ClassOf(err) == errclass.Retryable {
			s.fixes[f.a.ID] = f // retried by the next Confirm
		}
		return fmt.Errorf("strava: update activity %d: %w", f.a.ID, err)
	}
	delete(s.fixes, f.a.ID)
	s.known.add(&got.SummaryActivity)
	return nil
}

// retryFixups applies fix-ups an earlier Confirm could not.
func (s *Sink) retryFixups(ctx context.Context) error {
	s.mu.Lock()
	queued := make([]fixup, 0, len(s.fixes))
	for _, f := range s.fixes {
		queued = append(queued, f)
	}
	s.mu.Unlock()
	var errs []error
	for _, f := range queued {
		if err := s.apply(ctx, f); err != nil {
			if stops(ctx, err) {
				return err
			}
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}
