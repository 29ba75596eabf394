package gadgetbridge

import (
	"context"
	"fmt"
	"runtime"
	"testing"
	"time"
)

// benchDB builds a database of n workouts: a third with raw details, a
// third with a GPX, a third summary-only.
func benchDB(b *testing.B, n int) string {
	dir := b.TempDir()
	p, db := newDB(b, dir)
	tx, _ := db.Begin()
	base := time.Date(2020, 1, 1, 6, 0, 0, 0, time.UTC)
	bin := "shared.bin"
	writeDetails(b, dir, bin)
	for i := 0; i < n; i++ {
		start := base.Add(time.Duration(i) * 7 * time.Hour)
		r := gbRow{start: start, dur: 30 * time.Minute, kind: 16, sport: 1}
		if i%3 == 0 {
			r.details = bin
		}
		raw := huamiSummary(r.sport, r.start, r.dur, 5000, 130, 171)
		var det any
		if r.details != "" {
			det = androidFiles + "rawDetails/" + r.details
		}
		if _, err := tx.Exec(`INSERT INTO BASE_ACTIVITY_SUMMARY (START_TIME, END_TIME, ACTIVITY_KIND, BASE_LONGITUDE, BASE_LATITUDE,
			BASE_ALTITUDE, RAW_DETAILS_PATH, DEVICE_ID, USER_ID, RAW_SUMMARY_DATA) VALUES (?, ?, 16, ?, ?, ?, ?, 7, 1, ?)`,
			start.UnixMilli(), start.Add(r.dur).UnixMilli(), dumpBaseLon, dumpBaseLat, dumpBaseAlt, det, raw); err != nil {
			b.Fatal(err)
		}
	}
	tx.Commit()
	db.Close()
	return p
}

// BenchmarkListFetch: List all and Fetch all of a 2 000-workout database.
func BenchmarkListFetch(b *testing.B) {
	p := benchDB(b, 2000)
	ctx := context.Background()
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		s, err := Open(ctx, p, Options{})
		if err != nil {
			b.Fatal(err)
		}
		n := 0
		for ref, err := range s.List(ctx, time.Time{}, time.Time{}) {
			if err != nil {
				b.Fatal(err)
			}
			if _, err := s.Fetch(ctx, ref); err != nil {
				b.Fatal(err)
			}
			n++
		}
		s.Close()
		if n != 2000 {
			b.Fatalf("%d workouts", n)
		}
	}
}

// BenchmarkListOnly lists databases of growing size and reports the peak
// heap growth while listing: streaming keeps it flat.
func BenchmarkListOnly(b *testing.B) {
	for _, n := range []int{500, 2000, 8000} {
		b.Run(fmt.Sprint(n), func(b *testing.B) {
			p := benchDB(b, n)
			ctx := context.Background()
			s, err := Open(ctx, p, Options{})
			if err != nil {
				b.Fatal(err)
			}
			defer s.Close()
			b.ReportAllocs()
			b.ResetTimer()
			var peak uint64
			for b.Loop() {
				runtime.GC()
				var m0 runtime.MemStats
				runtime.ReadMemStats(&m0)
				i := 0
				for _, err := range s.List(ctx, time.Time{}, time.Time{}) {
					if err != nil {
						b.Fatal(err)
					}
					if i++; i%250 == 0 {
						var m runtime.MemStats
						runtime.ReadMemStats(&m)
						if m.HeapInuse > m0.HeapInuse {
							peak = max(peak, m.HeapInuse-m0.HeapInuse)
						}
					}
				}
			}
			b.ReportMetric(float64(peak)/1024, "peak-heap-KiB")
		})
	}
}
