package zeppjson

import (
	"bytes"
	"fmt"
	"testing"
)

// FuzzDecode feeds summary and detail pairs. Decode must not panic, and a
// workout it returns must be consistent: samples time-ordered, no empty
// sample, no implausible value kept, and Encode must accept it and write
// what the reference encoder writes.
func FuzzDecode(f *testing.F) {
	for _, name := range fixtureNames {
		s, d := readFixture(f, name)
		f.Add(s, d)
	}
	f.Add([]byte(nil), []byte(`{"trackid":1698569116,"time":"1;;2;","longitude_latitude":"5000000000,300000000;;1,1;","altitude":"-2000000;;100;","heart_rate":"1,0;,80;0,255;","pause":"1698569117,5,-1,-1,3;","lap":"0,30,100,s00000000000,0,30,-20000;"}`))
	f.Add([]byte(`{"code":1,"message":"success","data":{"trackid":"1698569116","type":"999"}}`), []byte(`{"code":1,"message":"success","data":{"trackid":1698569116,"kilo_pace":"0,300,u0,-1,-1,300;","currentDistance":"0,0;5,40000;5,30000;","time_delta_altitude":"1,3516;1,3518;"}}`))
	f.Fuzz(func(t *testing.T, summary, detail []byte) {
		w, err := Decode(summary, detail)
		if err != nil {
			return
		}
		if err := w.Validate(); err != nil {
			t.Fatalf("Decode accepted a workout that is not sound: %v", err)
		}
		for i, s := range w.Samples {
			if s.Has == 0 {
				t.Fatalf("sample %d is empty", i)
			}
			if s.Time.Before(w.Start) {
				t.Fatalf("sample %d before the start", i)
			}
		}
		if _, _, err := Encode(w); err != nil {
			t.Fatalf("Encode of a decoded workout: %v", err)
		}
		checkEncodeMatchesRef(t, w)
	})
}

// FuzzDecodeHistory feeds history pages; every summary DecodeHistory
// returns must decode alone from its Raw bytes to the same values.
func FuzzDecodeHistory(f *testing.F) {
	var entries [][]byte
	for _, name := range fixtureNames {
		s, _ := readFixture(f, name)
		entries = append(entries, s)
	}
	f.Add(fmt.Appendf(nil, `{"code":1,"message":"success","data":{"next":1542558074,"summary":[%s]}}`, bytes.Join(entries, []byte(","))))
	f.Add([]byte(`{"code":1,"message":"success","data":{"next":"-1","summary":[]}}`))
	f.Add([]byte(`{"code":0,"message":"invalid token","data":{"code":"0102"}}`))
	f.Fuzz(func(t *testing.T, page []byte) {
		_, sums, err := DecodeHistory(page)
		if err != nil {
			return
		}
		for i, s := range sums {
			again, err := DecodeSummary(s.Raw)
			if err != nil {
				t.Fatalf("summary %d: Raw does not decode: %v", i, err)
			}
			if again.TrackID != s.TrackID || again.Source != s.Source || again.Distance != s.Distance && again.Distance == again.Distance {
				t.Fatalf("summary %d decodes differently from its Raw", i)
			}
		}
	})
}
