package zeppexport

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/bandsync/bandsync/internal/format"
	"github.com/bandsync/bandsync/internal/workout"
)

func TestParseSportCSV(t *testing.T) {
	in := csvHeader +
		"1,2026-06-19 04:43:15+0000,1800,0.25,0.4,5000,0.36,320\n" +
		"\n" + // blank lines are skipped
		"6,2024-01-02 08:00:00+08:00,-1,-1,0,-20000,,abc\n" + // sentinels and junk read as 0
		"22,2024-01-03T09:00:00Z,60\n" + // short row: missing columns are 0
		"14,2024-01-04 10:00:00,600,,,1000,,\n" + // no offset: UTC, not zoned
		"x,2024-01-05 10:00:00+0000\n" + // bad type
		"1,1999-12-31 23:00:00+0000\n" + // before 2000
		"1,\n" // no start
	rows, rowErrs, err := ParseSportCSV(strings.NewReader(in))
	if err != nil {
		t.Fatal(err)
	}
	if len(rows) != 4 || len(rowErrs) != 3 {
		t.Fatalf("%d rows, errors %v", len(rows), rowErrs)
	}
	r := rows[0]
	if r.Type != 1 || !r.Start.Equal(time.Date(2026, 6, 19, 4, 43, 15, 0, time.UTC)) || r.Duration != 30*time.Minute ||
		r.Distance != 5000 || r.Calories != 320 || r.FastestPace() != 0.25 || !r.Zoned || r.Line != 2 {
		t.Errorf("row 0: %+v", r)
	}
	if r := rows[1]; !r.Start.Equal(time.Date(2024, 1, 2, 0, 0, 0, 0, time.UTC)) || r.Offset != 8*time.Hour ||
		r.Duration != 0 || r.Distance != 0 || r.Calories != 0 || r.FastestPace() != 0 || r.Line != 4 {
		t.Errorf("row 1: %+v", r)
	}
	if r := rows[3]; r.Zoned || r.Start.Location() != time.UTC {
		t.Errorf("row 3: %+v", r)
	}
	for i, want := range []string{"line 7", "line 8", "line 9"} {
		if !strings.Contains(rowErrs[i].Error(), want) {
			t.Errorf("error %d %q does not name %s", i, rowErrs[i], want)
		}
	}
	w := rows[0].Workout()
	if w.Sport != workout.SportRun || len(w.Samples) != 0 || w.Summary.MaxSpeed != 4 || w.Summary.Elapsed != 30*time.Minute || !w.Zone.Known {
		t.Errorf("workout: %+v", w)
	}
	if w := rows[3].Workout(); w.Zone.Known || !strings.Contains(strings.Join(w.Notes, "\n"), "UTC") {
		t.Errorf("unzoned workout: zone %+v notes %q", w.Zone, w.Notes)
	}
}

func TestParseSportCSVWholeFile(t *testing.T) {
	for name, in := range map[string]string{
		"empty":      "",
		"bom only":   "\xef\xbb\xbf",
		"other file": "date,time,heartRate\n2024-05-01,06:00,80\n",
	} {
		if _, _, err := ParseSportCSV(strings.NewReader(in)); err == nil {
			t.Errorf("%s: no error", name)
		}
	}
	// An unterminated quote ends the file with an error on its line.
	rows, errs, err := ParseSportCSV(strings.NewReader(csvHeader + "1,2024-01-01 00:00:00+0000\n1,\"2024-01-02\n"))
	if err != nil || len(rows) != 1 || len(errs) != 1 || !strings.Contains(errs[0].Error(), "line 3") {
		t.Errorf("rows %v errors %v err %v", rows, errs, err)
	}
}

func FuzzSportCSV(f *testing.F) {
	f.Add([]byte(csvHeader + strings.Join(sportLines, "\n")))
	f.Add([]byte("type,startTime\n1,2024-01-01 00:00:00+0000\n"))
	f.Add([]byte("\xef\xbb\xbfTYPE,StartTime(x),distance(m)\n\"1\",\"2024-01-01T00:00:00Z\",\"1e308\"\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		rows, rowErrs, err := ParseSportCSV(bytes.NewReader(data))
		if err != nil && (len(rows) > 0 || len(rowErrs) > 0) {
			t.Fatal("rows with a whole-file error")
		}
		for _, r := range rows {
			if r.Start.Before(minStart) || !r.Start.Before(maxStart) || r.Start.Location() != time.UTC {
				t.Fatalf("start %v", r.Start)
			}
			if r.Duration < 0 || r.Distance < 0 || r.Calories < 0 || r.FastestPace() < 0 || r.Line < 2 {
				t.Fatalf("row %+v", r)
			}
			w := r.Workout()
			if len(w.Samples) != 0 || w.Summary.Elapsed < 0 || w.Summary.Elapsed > maxDuration {
				t.Fatalf("workout %+v", w.Summary)
			}
		}
		for _, e := range rowErrs {
			if !strings.HasPrefix(e.Error(), "line ") {
				t.Fatalf("row error %q does not name its line", e)
			}
		}
	})
}

// FuzzArchive opens arbitrary bytes as an export zip, with and without a
// password: no panic, and every listed workout fetches or fails cleanly.
// Each run derives AES keys (PBKDF2), so minimizing an input takes long:
// run it with -fuzzminimizetime=2s.
func FuzzArchive(f *testing.F) {
	for _, name := range []string{"aes256.zip", "aes128.zip", "zipcrypto-7zip.zip", "zipcrypto-infozip.zip"} {
		data, err := os.ReadFile(filepath.Join("testdata", "encrypted", name))
		if err != nil {
			f.Fatal(err)
		}
		f.Add(data, true)
	}
	// A small unencrypted export: large seeds slow the fuzzer to a crawl.
	dir := f.TempDir()
	mkfile(f, filepath.Join(dir, "src", "SPORT", "SPORT_1.csv"), []byte(csvHeader+strings.Join(sportLines[1:], "\n")))
	if err := format.WriteFile(filepath.Join(dir, "src", "ride.fit"), synthetic(rideStart, workout.SportRide, 5), format.Options{}); err != nil {
		f.Fatal(err)
	}
	plain := filepath.Join(dir, "plain.zip")
	zipFolder(f, filepath.Join(dir, "src"), plain)
	data, err := os.ReadFile(plain)
	if err != nil {
		f.Fatal(err)
	}
	f.Add(data, false)
	f.Fuzz(func(t *testing.T, data []byte, withPassword bool) {
		p := filepath.Join(t.TempDir(), "x.zip")
		if err := os.WriteFile(p, data, 0o644); err != nil {
			t.Fatal(err)
		}
		var opt Options
		if withPassword {
			opt.Password = []byte(testPassword)
		}
		s, err := New(p, opt)
		if err != nil {
			t.Fatal(err)
		}
		defer s.Close()
		ctx := context.Background()
		n := 0
		for r, err := range s.List(ctx, time.Time{}, time.Time{}) {
			if err != nil {
				if strings.Contains(err.Error(), testPassword) {
					t.Fatalf("error shows the password: %v", err)
				}
				return
			}
			if n++; n > 50 {
				return
			}
			w, err := s.Fetch(ctx, r)
			if err != nil {
				continue
			}
			if !w.Start.Equal(r.Start) || w.Origin.ID != r.ID {
				t.Fatalf("fetched %v %v for %+v", w.Start, w.Origin, r)
			}
		}
	})
}
