package strava

import (
	"bytes"
	"fmt"
	"html"
	"io"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/bandsync/bandsync/internal/format/fit"
	"github.com/bandsync/bandsync/internal/format/gpx"
	"github.com/bandsync/bandsync/internal/format/tcx"
	"github.com/bandsync/bandsync/internal/sink/strava/api"
	"github.com/bandsync/bandsync/internal/workout"
	"github.com/klauspost/compress/gzip"
)

// maxUpload bounds an uploaded file. Strava documents no limit (§2.1).
const maxUpload = 64 << 20

// Processing errors Strava has been seen to write (strava-api.md §2.5).
const (
	errMalformed   = "The upload appears to be malformed and we are unable to process it"
	errMissingTime = "time information is missing from the file"
	errUnknownType = "Unrecognised file type"
)

type upload struct {
	api.Upload
	readyAt  time.Time // zero: never (stays processing)
	workout  *workout.Workout
	data     []byte // the file as sent, while processing
	kind     string // its data_type
	parseErr string
	form     uploadForm
	fromFIT  bool
}

type uploadForm struct {
	name, description, sportType string
	trainer, commute             bool
	hasDescription               bool
}

// decoders read each data_type's (ungzipped) file with the project's own
// decoders.
var decoders = map[string]func(io.Reader) (*workout.Workout, error){
	"fit": fit.Decode,
	"gpx": gpx.Decode,
	"tcx": tcx.Decode,
}

// truthy reads Strava's loose booleans: "1" and "true" set a flag (the spec
// types trainer/commute as strings, the old guide as integers).
func truthy(v string) bool {
	v = strings.ToLower(strings.TrimSpace(v))
	return v == "1" || v == "true"
}

// handleUpload is POST /uploads (multipart).
func (s *Server) handleUpload(w http.ResponseWriter, r *http.Request, _ *accessToken) {
	r.Body = http.MaxBytesReader(w, r.Body, maxUpload+1<<20)
	if err := r.ParseMultipartForm(8 << 20); err != nil {
		badRequest(w, "Upload", "data", "empty")
		return
	}
	defer func() { _ = r.MultipartForm.RemoveAll() }()
	file, hdr, err := r.FormFile("file")
	if err != nil {
		badRequest(w, "Upload", "data", "empty")
		return
	}
	defer file.Close()
	data, err := io.ReadAll(io.LimitReader(file, maxUpload))
	if err != nil || len(data) == 0 {
		badRequest(w, "Upload", "data", "empty")
		return
	}
	dataType := strings.ToLower(strings.TrimSpace(r.FormValue("data_type")))
	base, gz := strings.CutSuffix(dataType, ".gz")
	if base != "fit" && base != "gpx" && base != "tcx" {
		badRequest(w, "Upload", "data_type", "invalid") // guess at the body
		return
	}
	// "data filename will be used by default". The guide's example shows
	// external_id "98765" come back as "98765.gpx": the extension is
	// appended when missing (a guess at the rule).
	ext := r.FormValue("external_id")
	if ext == "" {
		ext = hdr.Filename
	}
	if !strings.HasSuffix(strings.ToLower(ext), "."+base) && !strings.HasSuffix(strings.ToLower(ext), "."+dataType) {
		ext += "." + base
	}
	_, hasDesc := r.MultipartForm.Value["description"]
	u := &upload{form: uploadForm{
		name: r.FormValue("name"), description: r.FormValue("description"), hasDescription: hasDesc,
		sportType: r.FormValue("sport_type"), trainer: truthy(r.FormValue("trainer")), commute: truthy(r.FormValue("commute")),
	}}
	u.workout, u.parseErr = decodeUpload(data, base, gz)
	u.fromFIT = base == "fit"
	if s.opt.FileDir != "" {
		u.data, u.kind = data, dataType
	}

	s.mu.Lock()
	defer s.mu.Unlock()
	now := s.now()
	s.processLocked(now)
	s.seq++
	u.ID, u.IDStr, u.ExternalID, u.Status = s.seq, api.FormatID(s.seq), ext, api.StatusProcessing
	if d := s.opt.ProcessingDelay; d >= 0 {
		u.readyAt = now.Add(d)
	}
	s.uploads[u.ID] = u
	s.processing = append(s.processing, u.ID)
	if s.opt.DuplicatesAtPost && u.parseErr == "" {
		if dup := s.duplicateLocked(u); dup != nil {
			s.failLocked(u, s.duplicateMessage(u.ExternalID, dup))
			writeJSON(w, http.StatusBadRequest, u.Upload)
			return
		}
	}
	writeJSON(w, http.StatusCreated, u.Upload)
}

// decodeUpload reads a file as Strava would; a failure is the error text
// the upload will report.
func decodeUpload(data []byte, base string, gz bool) (*workout.Workout, string) {
	var r io.Reader = bytes.NewReader(data)
	if gz {
		zr, err := gzip.NewReader(r)
		if err != nil {
			return nil, errMalformed
		}
		r = io.LimitReader(zr, maxUpload)
	}
	dec, ok := decoders[base]
	if !ok {
		return nil, errUnknownType
	}
	w, err := dec(r)
	switch {
	case err != nil:
		return nil, errMalformed
	case w.Start.IsZero():
		return nil, errMissingTime
	}
	return w, ""
}

// processLocked finishes every upload whose processing time has passed, in
// upload order, so a later upload of the same workout is the duplicate.
func (s *Server) processLocked(now time.Time) {
	still := s.processing[:0]
	for _, id := range s.processing {
		u := s.uploads[id]
		if u.Status != api.StatusProcessing {
			continue
		}
		if u.readyAt.IsZero() || now.Before(u.readyAt) {
			still = append(still, id)
			continue
		}
		switch {
		case u.parseErr != "":
			s.failLocked(u, u.parseErr)
		case s.duplicateLocked(u) != nil:
			s.failLocked(u, s.duplicateMessage(u.ExternalID, s.duplicateLocked(u)))
		default:
			a := s.activityFromUpload(u)
			s.keepFile(a, u)
			s.addLocked(a)
			u.Status, u.ActivityID = api.StatusReady, &a.ID
			u.workout = nil
		}
		u.data = nil
	}
	s.processing = still
}

// keepFile moves an activity's file to the file store in
// Options.FileDir, when set, so the server holds only summaries in memory.
func (s *Server) keepFile(a *activity, u *upload) {
	if s.opt.FileDir == "" || u.data == nil {
		return
	}
	sp, err := s.files.put(u.data)
	if err != nil {
		return // keep it in memory then
	}
	a.w, a.file, a.kind = nil, &sp, u.kind
}

func (s *Server) failLocked(u *upload, msg string) {
	u.Status, u.Error, u.workout = api.StatusError, &msg, nil
}

// duplicateLocked returns the activity u duplicates, or nil. Strava's rule
// is undocumented; reports say it keys on the start time (§2.4), so the
// emulator calls two activities the same when they start in the same
// second (guess), and optionally when they share the external_id.
func (s *Server) duplicateLocked(u *upload) *activity {
	var found *activity
	if u.workout != nil {
		found = s.first(s.byStart[u.workout.Start.Unix()])
	}
	if s.opt.DuplicateByExternalID {
		if a := s.first(s.byExt[u.ExternalID]); a != nil && (found == nil || a.ID < found.ID) {
			found = a
		}
	}
	return found
}

// first returns the oldest activity of ids.
func (s *Server) first(ids []int64) *activity {
	if len(ids) == 0 {
		return nil
	}
	return s.activities[slices.Min(ids)]
}

// addLocked stores an activity and indexes it by start and external_id.
func (s *Server) addLocked(a *activity) {
	s.activities[a.ID] = a
	k := a.start.Unix()
	s.byStart[k] = append(s.byStart[k], a.ID)
	if a.externalID != nil {
		s.byExt[*a.externalID] = append(s.byExt[*a.externalID], a.ID)
	}
}

// removeLocked forgets an activity and its index entries.
func (s *Server) removeLocked(a *activity) {
	delete(s.activities, a.ID)
	drop := func(ids []int64) []int64 { return slices.DeleteFunc(ids, func(id int64) bool { return id == a.ID }) }
	k := a.start.Unix()
	if s.byStart[k] = drop(s.byStart[k]); len(s.byStart[k]) == 0 {
		delete(s.byStart, k)
	}
	if a.externalID != nil {
		if s.byExt[*a.externalID] = drop(s.byExt[*a.externalID]); len(s.byExt[*a.externalID]) == 0 {
			delete(s.byExt, *a.externalID)
		}
	}
}

func (s *Server) duplicateMessage(file string, a *activity) string {
	if s.opt.DuplicateHTML {
		return fmt.Sprintf("%s duplicate of <a href='/activities/%d' target='_blank'>%s</a>", file, a.ID, html.EscapeString(a.name))
	}
	return fmt.Sprintf("%s duplicate of activity %d", file, a.ID)
}

// handleUploadStatus is GET /uploads/{id}.
func (s *Server) handleUploadStatus(w http.ResponseWriter, r *http.Request, _ *accessToken) {
	id, ok := api.ParseID(r.PathValue("id"))
	s.mu.Lock()
	s.processLocked(s.now())
	u := s.uploads[id]
	var body api.Upload
	if u != nil {
		body = u.Upload
	}
	s.mu.Unlock()
	if !ok || u == nil {
		notFound(w, "Upload")
		return
	}
	writeJSON(w, http.StatusOK, body)
}

// Upload returns an upload's current state.
func (s *Server) Upload(id int64) (api.Upload, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.processLocked(s.now())
	u, ok := s.uploads[id]
	if !ok {
		return api.Upload{}, false
	}
	return u.Upload, true
}

// Uploads returns how many uploads were received.
func (s *Server) Uploads() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.uploads)
}

// guessSport is the sport Strava gives a file: from the FIT session's sport
// and sub_sport, TCX's Activity Sport, and otherwise the athlete's default
// type. Strava publishes no table (§6.8); this one is a guess that takes the
// FIT sport and only the sub_sports that name a different Strava sport.
func (s *Server) guessSport(w *workout.Workout, fromFIT bool) api.SportType {
	if !fromFIT {
		// TCX maps only biking, running, hiking, walking and swimming (§6.9);
		// GPX carries no standard sport.
		switch st, _ := w.Sport.Strava(); st {
		case "Run", "TrailRun":
			return "Run"
		case "Ride", "MountainBikeRide", "GravelRide", "EBikeRide", "EMountainBikeRide":
			return "Ride"
		case "Hike", "Walk", "Swim":
			return api.SportType(st)
		}
		return s.opt.DefaultSportType
	}
	sport, sub := w.Sport.FIT()
	switch sport {
	case 0: // generic
		return s.opt.DefaultSportType
	case 1:
		return "Run"
	case 2:
		return "Ride"
	case 21:
		return "EBikeRide"
	case 11:
		return "Walk"
	case 16, 17:
		return "Hike"
	case 5:
		return "Swim"
	case 15:
		return "Rowing"
	case 4: // fitness_equipment
		switch sub {
		case 1:
			return "Run"
		case 14:
			return "Rowing"
		case 15:
			return "Elliptical"
		case 16:
			return "StairStepper"
		}
	case 10: // training
		switch sub {
		case 20:
			return "WeightTraining"
		case 43:
			return "Yoga"
		}
	case 62:
		return "HighIntensityIntervalTraining"
	case 12:
		return "NordicSki"
	case 13:
		return "AlpineSki"
	case 14:
		return "Snowboard"
	case 30:
		return "InlineSkate"
	case 33:
		return "IceSkate"
	case 31:
		return "RockClimbing"
	case 41:
		return "Kayaking"
	case 37:
		return "StandUpPaddling"
	case 38:
		return "Surfing"
	case 32:
		return "Sail"
	case 25:
		return "Golf"
	}
	return "Workout"
}

// DeviceName is the name Strava shows for a file's device. Strava matches
// FIT manufacturer/product and TCX/GPX creator names against its own table
// and shows nothing for unknown devices (§6.2); the emulator's table is a
// guess that knows every model: the model, preceded by the maker unless the
// model already names it or is one of the maker's brands (Amazfit is Zepp's).
func DeviceName(d workout.Device) string {
	maker, model := strings.TrimSpace(d.Maker), strings.TrimSpace(d.Model)
	if model == "" {
		return ""
	}
	lower := strings.ToLower(model)
	if maker == "" || strings.HasPrefix(lower, strings.ToLower(maker)) {
		return model
	}
	for _, brand := range []string{"amazfit", "huami", "zepp", "xiaomi", "redmi", "mi "} {
		if strings.HasPrefix(lower, brand) {
			return model
		}
	}
	return maker + " " + model
}
