package zeppjson

import (
	"fmt"
	"reflect"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/bandsync/bandsync/internal/workout"
)

// streamSeeds are small details whose streams take the fast paths' odd
// corners: empty fields and placeholders, extra columns, signs, trailing
// separators, long numbers, exponents and errors.
var streamSeeds = []string{
	`{"trackid":1698569116,"time":"1;;2;0;","longitude_latitude":"5000000000,300000000;;1,1;-2,-3","altitude":"-2000000;;100;5.5;","heart_rate":"1,80;,1;0,-2;3,0,9;","pause":"1698569117,5,-1,-1,3;","lap":"0,30,100,s00000000000,0,30,-20000;"}`,
	`{"trackid":1698569116,"time":"0;1;1","longitude_latitude":";;1,2","altitude":"1e3;2;3"}`,
	`{"trackid":1698569116,"time":"1;1;1;","longitude_latitude":"9000000001,0;1,1;1,1;","altitude":"-50000;1000000;7"}`,
	`{"trackid":1698569116,"gait":"1,3,0,0;1,,53,168;,2,53,-0;1,1,53,170,9,9;1,1;1,1,5;1,-2,.5,3.;1,1,,;1,1,1e2,100"}`,
	`{"trackid":1698569116,"speed":"1,0.34602076;1,1234567890123456;1,-0;2,3.,4;1,.5","distance":"1,2;1,-3;1,2.5;1,0","currentDistance":"1,100;1,50;2,12345"}`,
	`{"trackid":1698569116,"stroke_speed":"1,0.5;1,0.25;","cadence":"1,90;1,400;","power_meter":"1,250;1,9000","time_delta_altitude":"1,3516;1,3518;"}`,
	`{"trackid":1698569116,"heart_rate":"1,100;-1,2"}`,
	`{"trackid":1698569116,"heart_rate":"00000001,100;1,2"}`,
	`{"trackid":1698569116,"heart_rate":"604800,100;1,2"}`,
	`{"trackid":1698569116,"heart_rate":"1,1000000000000;1,1"}`,
	`{"trackid":1698569116,"heart_rate":"1,80;;1,2"}`,
	`{"trackid":1698569116,"speed":"1,;1,2"}`,
	`{"trackid":1698569116,"speed":"1,-;1,2"}`,
	`{"trackid":1698569116,"gait":"1,99999999999,0,0"}`,
	`{"trackid":1698569116,"gait":"1,3,x,0"}`,
	`{"trackid":1698569116,"time":"1,2;3","longitude_latitude":"1;2"}`,
	`{"trackid":1698569116,"time":"1;2","longitude_latitude":",1;2,3"}`,
	`{"trackid":1698569116,"time":"1;2","longitude_latitude":"1,2,3;2,3"}`,
	`{"trackid":1698569116,"time":"1;2","altitude":"1,2;3"}`,
	`{"trackid":1698569116,"time":"1;2","altitude":"1;2;junk"}`,
	`{"trackid":1698569116,"time":"1;2","longitude_latitude":"-,1;2,3"}`,
}

// sameDecode fails unless the fast paths and the general parsers agree on
// a detail: the same error text, or the same workout.
func sameDecode(t *testing.T, summary, detail []byte) {
	t.Helper()
	fast, errFast := decode(summary, detail, false)
	general, errGeneral := decode(summary, detail, true)
	if fmt.Sprint(errFast) != fmt.Sprint(errGeneral) {
		t.Fatalf("fast paths: error %v\ngeneral parsers: error %v\ndetail: %.300s", errFast, errGeneral, detail)
	}
	if errFast != nil {
		return
	}
	if f, g := fmt.Sprintf("%+v", *fast), fmt.Sprintf("%+v", *general); f != g {
		t.Fatalf("fast paths and general parsers decode differently\nfast:    %.2000s\ngeneral: %.2000s\ndetail: %.300s", f, g, detail)
	}
}

// TestStreamFastPaths: the fast stream parsers give exactly what the
// general ones give, on the fixtures, mutations of them and odd streams.
func TestStreamFastPaths(t *testing.T) {
	for _, name := range fixtureNames {
		summary, detail := readFixture(t, name)
		sameDecode(t, summary, detail)
		for i := range 100 {
			sameDecode(t, summary, mutate(detail, uint64(1000+i)))
		}
	}
	for _, s := range streamSeeds {
		sameDecode(t, nil, []byte(s))
	}
}

// FuzzStreamFastPaths compares the fast stream parsers with the general
// ones on arbitrary details.
func FuzzStreamFastPaths(f *testing.F) {
	for _, s := range streamSeeds {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, detail []byte) {
		sameDecode(t, nil, detail)
	})
}

// TestDecodedIsNormalized: Decode's result is what Normalize makes of it
// (Decode does not call Normalize, see build).
func TestDecodedIsNormalized(t *testing.T) {
	check := func(summary, detail []byte) {
		t.Helper()
		w, err := Decode(summary, detail)
		if err != nil {
			return
		}
		n := *w
		n.Samples = append([]workout.Sample(nil), w.Samples...)
		n.Pauses = append([]workout.Interval(nil), w.Pauses...)
		n.Laps = append([]workout.Lap(nil), w.Laps...)
		n.Normalize()
		if reflect.DeepEqual(w, &n) {
			return
		}
		if diff := cmp.Diff(w, &n); diff != "" {
			t.Fatalf("Normalize changes a decoded workout (-decoded +normalized):\n%s", diff)
		}
	}
	for _, name := range fixtureNames {
		summary, detail := readFixture(t, name)
		check(summary, detail)
		for i := range 100 {
			check(summary, mutate(detail, uint64(2000+i)))
		}
	}
	for _, s := range streamSeeds {
		check(nil, []byte(s))
	}
	// pauses out of order and overlapping, laps from kilo_pace
	check(nil, []byte(`{"trackid":1698569116,"time":"1;1;1","heart_rate":"1,80;1,1;1,1","pause":"1698569200,50,-1,-1,3;1698569150,60,-1,-1,3;1698569120,5,-1,-1,2;","kilo_pace":"0,300,u0,-1,-1,300;1,300,u0,-1,-1,600;"}`))
}

// TestDecodeConcurrent: decodes running at once, sharing pooled buffers,
// give what one decode alone gives.
func TestDecodeConcurrent(t *testing.T) {
	type input struct{ summary, detail []byte }
	var inputs []input
	var want []string
	for _, name := range fixtureNames {
		s, d := readFixture(t, name)
		inputs = append(inputs, input{s, d})
		want = append(want, decodeDigest(s, d))
	}
	errs := make(chan error, 8)
	for g := range 8 {
		go func() {
			for i := range 30 {
				k := (g + i) % len(inputs)
				if got := decodeDigest(inputs[k].summary, inputs[k].detail); got != want[k] {
					errs <- fmt.Errorf("%s decoded concurrently: %s, alone: %s", fixtureNames[k], got, want[k])
					return
				}
			}
			errs <- nil
		}()
	}
	for range 8 {
		if err := <-errs; err != nil {
			t.Error(err)
		}
	}
}

// A number longer than fastFloat reads (float noise from a difference) no
// longer sends its whole stream to the general parser: the fast path reads
// it as the general one would.
func TestPairsFastReadsLongNumbers(t *testing.T) {
	out, _, _, ok := pairsFast([]byte("1,0.09999999999999964;1,2;1,1e2"), pairValue, nil)
	if !ok {
		t.Fatal("the fast path gave up on a 17-digit number")
	}
	want := []valPoint{{off: 1, v: 0.09999999999999964}, {off: 2, v: 2}, {off: 3, v: 100}}
	if !reflect.DeepEqual(out, want) {
		t.Fatalf("got %+v, want %+v", out, want)
	}
	sameDecode(t, nil, []byte(`{"trackid":1698569116,"distance":"1,0.09999999999999964;1,0.30000000000000004;1,2"}`))
}
