package zeppjson

import (
	"os"
	"testing"
)

// BenchmarkDecodeZeppDetail decodes the 53-minute run fixture (summary and
// 146 KB detail; 1517 GPS points, 3105 entries per sample stream).
func BenchmarkDecodeZeppDetail(b *testing.B) {
	summary, err := os.ReadFile("testdata/run_1698569116_summary.json")
	if err != nil {
		b.Fatal(err)
	}
	detail, err := os.ReadFile("testdata/run_1698569116_detail.json")
	if err != nil {
		b.Fatal(err)
	}
	b.SetBytes(int64(len(summary) + len(detail)))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := Decode(summary, detail); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkEncodeZeppDetail encodes the decoded 53-minute run fixture
// (summary and detail), as the Zepp cloud emulator does for each workout.
func BenchmarkEncodeZeppDetail(b *testing.B) {
	summary, err := os.ReadFile("testdata/run_1698569116_summary.json")
	if err != nil {
		b.Fatal(err)
	}
	detail, err := os.ReadFile("testdata/run_1698569116_detail.json")
	if err != nil {
		b.Fatal(err)
	}
	w, err := Decode(summary, detail)
	if err != nil {
		b.Fatal(err)
	}
	sum, det, err := Encode(w)
	if err != nil {
		b.Fatal(err)
	}
	b.SetBytes(int64(len(sum) + len(det)))
	b.ReportAllocs()
	for b.Loop() {
		if _, _, err := Encode(w); err != nil {
			b.Fatal(err)
		}
	}
}
