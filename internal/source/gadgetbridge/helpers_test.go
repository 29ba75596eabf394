package gadgetbridge

import (
	"context"
	"database/sql"
	"encoding/binary"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"testing"
	"time"
)

// huamiSummary builds a classic Huami summary blob, version 518 layout
// (offline-formats.md §2.2).
func huamiSummary(sport int, start time.Time, dur time.Duration, dist float32, avgHR, maxHR int) []byte {
	b := make([]byte, 140)
	le := binary.LittleEndian
	le.PutUint16(b[0:], 518)
	le.PutUint16(b[2:], uint16(sport))
	le.PutUint32(b[4:], uint32(start.Unix()))
	le.PutUint32(b[8:], uint32(start.Add(dur).Unix()))
	le.PutUint32(b[12:], uint32(dumpBaseLon))
	le.PutUint32(b[16:], uint32(dumpBaseLat))
	le.PutUint32(b[20:], uint32(dumpBaseAlt))
	le.PutUint32(b[24:], 4321)                  // steps
	le.PutUint32(b[28:], uint32(dur.Seconds())) // active seconds
	le.PutUint32(b[48:], math.Float32bits(321)) // kcal
	le.PutUint32(b[52:], math.Float32bits(dist))
	le.PutUint32(b[108:], math.Float32bits(2.5)) // cadence, steps/s
	le.PutUint16(b[132:], uint16(avgHR))
	le.PutUint16(b[138:], uint16(maxHR))
	return b
}

// gbRow is one synthetic BASE_ACTIVITY_SUMMARY row.
type gbRow struct {
	start   time.Time
	dur     time.Duration
	kind    int
	sport   int    // Huami sport code in the raw summary; 0 = no raw summary
	details string // file name under rawDetails/, "" = none
	gpx     string // GPX file name, "" = none
}

// newDB creates a Gadgetbridge database from the real 2024 schema dump,
// with one Huami device, in dir/Gadgetbridge.
func newDB(t testing.TB, dir string) (string, *sql.DB) {
	t.Helper()
	schema, err := os.ReadFile("testdata/gadgetbridge-schema-dump-2024.sql")
	if err != nil {
		t.Fatal(err)
	}
	p := filepath.Join(dir, "Gadgetbridge")
	db, err := sql.Open("sqlite", p)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	if _, err := db.Exec(string(schema)); err != nil {
		t.Fatal(err)
	}
	if _, err := db.Exec(`PRAGMA user_version = 92;
		INSERT INTO DEVICE (_id, NAME, MANUFACTURER, IDENTIFIER, TYPE, TYPE_NAME, MODEL) VALUES (7, 'Amazfit Bip', 'Huami', 'AA:BB:CC:DD:EE:01', 12, 'AMAZFITBIP', NULL);
		INSERT INTO DEVICE_ATTRIBUTES (FIRMWARE_VERSION1, VALID_FROM_UTC, DEVICE_ID) VALUES ('1.1.5.16', 0, 7);`); err != nil {
		t.Fatal(err)
	}
	return p, db
}

const androidFiles = "/storage/emulated/0/Android/data/nodomain.freeyourgadget.gadgetbridge/files/"

func addRow(t testing.TB, db *sql.DB, r gbRow) {
	t.Helper()
	var raw any
	if r.sport != 0 {
		raw = huamiSummary(r.sport, r.start, r.dur, 5000, 130, 171)
	}
	var det, gpx any
	if r.details != "" {
		det = androidFiles + "rawDetails/" + r.details
	}
	if r.gpx != "" {
		gpx = androidFiles + r.gpx
	}
	_, err := db.Exec(`INSERT INTO BASE_ACTIVITY_SUMMARY (START_TIME, END_TIME, ACTIVITY_KIND, BASE_LONGITUDE, BASE_LATITUDE,
		BASE_ALTITUDE, GPX_TRACK, RAW_DETAILS_PATH, DEVICE_ID, USER_ID, RAW_SUMMARY_DATA) VALUES (?, ?, ?, ?, ?, ?, ?, ?, 7, 1, ?)`,
		r.start.UnixMilli(), r.start.Add(r.dur).UnixMilli(), r.kind, dumpBaseLon, dumpBaseLat, dumpBaseAlt, gpx, det, raw)
	if err != nil {
		t.Fatal(err)
	}
}

// writeDetails copies the golden details blob to dir/rawDetails/name.
func writeDetails(t testing.TB, dir, name string) {
	t.Helper()
	b, err := os.ReadFile("testdata/huami-details-dump1.derived.bin")
	if err != nil {
		t.Fatal(err)
	}
	os.MkdirAll(filepath.Join(dir, "rawDetails"), 0o755)
	if err := os.WriteFile(filepath.Join(dir, "rawDetails", name), b, 0o644); err != nil {
		t.Fatal(err)
	}
}

func gpxDoc(start time.Time, timed bool) string {
	s := `<?xml version="1.0" encoding="UTF-8"?><gpx version="1.1" creator="Gadgetbridge 0.83.0" xmlns="http://www.topografix.com/GPX/1/1"><trk><trkseg>`
	for i := 0; i < 5; i++ {
		tm := ""
		if timed {
			tm = "<time>" + start.Add(time.Duration(i)*time.Second).UTC().Format(time.RFC3339) + "</time>"
		}
		s += fmt.Sprintf(`<trkpt lat="52.%06d" lon="13.342450"><ele>48</ele>%s</trkpt>`, 465152+i*10, tm)
	}
	return s + `</trkseg></trk></gpx>`
}

// fixture builds an export folder with three kinds of workouts: one with
// raw details, one with a GPX only, one with a summary only, plus extras.
func fixture(t testing.TB, dir string, n int) (string, *sql.DB) {
	p, db := newDB(t, dir)
	base := time.Date(2024, 3, 1, 7, 0, 0, 0, time.UTC)
	for i := 0; i < n; i++ {
		start := base.Add(time.Duration(i) * 26 * time.Hour)
		r := gbRow{start: start, dur: 24 * time.Minute, kind: 16, sport: 1}
		switch i % 3 {
		case 0:
			r.details = fmt.Sprintf("%s.bin", start.Format("2006-01-02T15_04_05Z"))
			writeDetails(t, dir, r.details)
		case 1:
			r.gpx = fmt.Sprintf("gadgetbridge-running-%s.gpx", start.Format("2006-01-02T15_04_05Z"))
			if err := os.WriteFile(filepath.Join(dir, r.gpx), []byte(gpxDoc(start, true)), 0o644); err != nil {
				t.Fatal(err)
			}
		case 2:
			r.kind, r.sport = 32, 0 // walking, no raw summary: ACTIVITY_KIND decides
		}
		addRow(t, db, r)
	}
	return p, db
}

func openSource(t testing.TB, path string, opt Options) *Source {
	t.Helper()
	s, err := Open(context.Background(), path, opt)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}
