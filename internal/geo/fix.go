package geo

import (
	"fmt"
	"strings"

	"github.com/bandsync/bandsync/internal/workout"
)

// The values of the `coords` setting.
const (
	// Auto converts a workout that is marked as GCJ-02 (MarkGCJ02, or a
	// decoder's note naming the "gaode" location provider) when its points
	// lie in China. It is the default.
	Auto = "auto"
	// WGS84 never converts: the source's coordinates are taken as they are.
	WGS84 = "wgs84"
	// GCJ02 converts every point inside China, marked or not: for accounts
	// whose tracks are known to be GCJ-02 but carry no mark.
	GCJ02 = "gcj02"
)

// Modes lists the valid values of the `coords` setting.
var Modes = []string{Auto, WGS84, GCJ02}

// CheckMode validates a `coords` setting ("" means Auto).
func CheckMode(mode string) error {
	switch mode {
	case "", Auto, WGS84, GCJ02:
		return nil
	}
	return fmt.Errorf("coords = %q: use %s, %s or %s", mode, Auto, WGS84, GCJ02)
}

// Notes that carry the datum through a workout. Workout has no datum
// field, so the mark travels in Workout.Notes, where people see it too.
const (
	markPrefix      = "coordinates: GCJ-02"
	convertedPrefix = "coordinates: converted from GCJ-02 to WGS-84"
)

// MarkGCJ02 records in w's notes that its positions are GCJ-02, and why
// (e.g. `provider "gaode"`, "account region cn"), so that Fix in Auto mode
// converts them. Sources call it when they know; marking twice adds one
// note.
func MarkGCJ02(w *workout.Workout, reason string) {
	if IsMarkedGCJ02(w) {
		return
	}
	w.Notes = append(w.Notes, fmt.Sprintf("%s (%s)", markPrefix, reason))
}

// IsMarkedGCJ02 reports whether w says its positions are GCJ-02: a
// MarkGCJ02 note, or a decoder's note naming the "gaode" (AutoNavi)
// location provider, which returns GCJ-02 positions.
func IsMarkedGCJ02(w *workout.Workout) bool {
	for _, n := range w.Notes {
		if strings.HasPrefix(n, markPrefix) {
			return true
		}
		l := strings.ToLower(n)
		if strings.Contains(l, "provider") && strings.Contains(l, "gaode") {
			return true
		}
	}
	return false
}

func converted(w *workout.Workout) bool {
	for _, n := range w.Notes {
		if strings.HasPrefix(n, convertedPrefix) {
			return true
		}
	}
	return false
}

// Fix converts w's positions from GCJ-02 to WGS-84 as the `coords` setting
// mode asks (see Auto, WGS84, GCJ02; "" is Auto, an unknown mode converts
// nothing: validate with CheckMode first) and reports whether any point
// moved. Only points inside China are converted; the others are WGS-84 in
// either datum. A converted workout gets a note saying so, and Fix never
// converts a workout twice, so calling it again (a re-run, a second sink)
// is harmless.
func Fix(w *workout.Workout, mode string) (changed bool) {
	if w == nil || converted(w) {
		return false
	}
	switch mode {
	case "", Auto:
		if !IsMarkedGCJ02(w) {
			return false
		}
	case GCJ02:
	default:
		return false
	}
	n := 0
	for i := range w.Samples {
		s := &w.Samples[i]
		if s.Has&workout.HasPosition == 0 || !InChina(s.Lat, s.Lon) {
			continue
		}
		s.Lat, s.Lon = GCJToWGS(s.Lat, s.Lon)
		n++
	}
	if n == 0 {
		return false
	}
	w.Notes = append(w.Notes, fmt.Sprintf("%s (%d points, coords = %s)", convertedPrefix, n, orAuto(mode)))
	return true
}

func orAuto(mode string) string {
	if mode == "" {
		return Auto
	}
	return mode
}
