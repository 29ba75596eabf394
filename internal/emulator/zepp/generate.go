package zepp

import (
	"math"
	"math/rand/v2"
	"sync"
	"time"

	"github.com/bandsync/bandsync/internal/workout"
)

// genSport describes how a generated workout of one sport moves.
type genSport struct {
	sport   workout.Sport
	gps     bool
	speed   float64 // m/s; 0 = stationary
	cadence float64 // per minute; 0 = none
	hr      int     // steady heart rate, bpm
	kcalMin float64 // kcal per minute
	noHR    bool    // pool swims: Zepp records no HR under water (swim fixture)
}

// genSports covers the kinds of the reference's type table (§4): outdoor
// and indoor, with and without GPS.
var genSports = []genSport{
	{sport: workout.SportRun, gps: true, speed: 3.1, cadence: 170, hr: 155, kcalMin: 11},
	{sport: workout.SportWalk, gps: true, speed: 1.4, cadence: 112, hr: 105, kcalMin: 4.5},
	{sport: workout.SportTreadmill, speed: 2.8, cadence: 168, hr: 150, kcalMin: 10},
	{sport: workout.SportRide, gps: true, speed: 7.5, cadence: 85, hr: 135, kcalMin: 9},
	{sport: workout.SportIndoorRide, speed: 8, cadence: 88, hr: 138, kcalMin: 9},
	{sport: workout.SportPoolSwim, speed: 0.75, cadence: 28, kcalMin: 8, noHR: true},
	{sport: workout.SportOpenWaterSwim, gps: true, speed: 0.8, cadence: 30, hr: 140, kcalMin: 9},
	{sport: workout.SportHike, gps: true, speed: 1.1, cadence: 100, hr: 120, kcalMin: 6},
	{sport: workout.SportTrailRun, gps: true, speed: 2.6, cadence: 164, hr: 158, kcalMin: 12},
	{sport: workout.SportElliptical, cadence: 130, hr: 135, kcalMin: 9},
	{sport: workout.SportIndoorRowing, speed: 2.2, cadence: 26, hr: 140, kcalMin: 9},
	{sport: workout.SportStrength, hr: 115, kcalMin: 6},
	{sport: workout.SportFreeTraining, hr: 125, kcalMin: 7},
	{sport: workout.SportMountainHike, gps: true, speed: 0.9, cadence: 95, hr: 130, kcalMin: 7},
	{sport: workout.SportYoga, hr: 90, kcalMin: 3},
	{sport: workout.SportHIIT, hr: 160, kcalMin: 12},
}

// genArea is a start area of generated workouts.
type genArea struct {
	zone       string
	offset     time.Duration
	lat, lon   float64
	altitude   float64
	deviceName string
}

// genPlaces are start areas in zones without daylight-saving time, so the
// fixed offset is right all year (no tzdata needed).
var genPlaces = []genArea{
	{"Asia/Shanghai", 8 * time.Hour, 31.2304, 121.4737, 5, "Amazfit Bip 3"},
	{"Asia/Kolkata", 5*time.Hour + 30*time.Minute, 12.9716, 77.5946, 920, "Amazfit Band 7"},
	{"America/Phoenix", -7 * time.Hour, 33.4484, -112.0740, 331, "Amazfit GTR 4"},
	{"Asia/Tokyo", 9 * time.Hour, 35.6762, 139.6503, 40, "Amazfit GTS 4"},
	{"Africa/Johannesburg", 2 * time.Hour, -26.2041, 28.0473, 1753, "Mi Band"},
	{"America/Sao_Paulo", -3 * time.Hour, -23.5505, -46.6333, 760, "Amazfit T-Rex 2"},
	{"UTC", 0, 51.4779, -0.0015, 46, "Amazfit Balance"},
}

// genSlots is how many 29-hour slots the generated history spans.
const genSlots = 5000

// genEpoch is the start of the newest generated workout's day.
var genEpoch = time.Date(2025, 5, 31, 0, 0, 0, 0, time.UTC)

// Generate returns n deterministic workouts for seed, newest first.
func Generate(n int, seed int64) []workout.Workout {
	out := make([]workout.Workout, n)
	for i := range out {
		out[i] = GenerateOne(seed, i)
	}
	return out
}

// GenerateOne returns the i-th workout of Generate(…, seed) without making
// the others: about one workout every 29 hours going back from mid-2025
// (beyond 5 000 workouts — 2009 — more workouts go in the same slots, each
// a few hours after the first one's start, so a 10 000-workout history still
// starts after 2000),
// sports cycling through the type table, several time zones, pauses in
// some, GPS tracks with altitude for outdoor sports and none indoors,
// heart rate and cadence at 1 Hz.
func GenerateOne(seed int64, i int) workout.Workout {
	r := genRand(seed, i)
	sp := genSports[(i+int(uint64(seed)%7))%len(genSports)]
	pl := genPlace(seed, i)
	// Later laps over the same years start 2½ hours apart after the first
	// lap's workout of the same slot.
	slot, lap := i%genSlots, i/genSlots
	start := genStart(seed, i, r)
	if lap > 0 {
		start = genStart(seed, slot, genRand(seed, slot)).Add(time.Duration(lap) * (2*time.Hour + 30*time.Minute))
	}
	dur := time.Duration(900+r.IntN(3600)) * time.Second

	wo := workout.Workout{
		Start:  start,
		Zone:   workout.Zone{Offset: pl.offset, Known: true, Name: pl.zone},
		Sport:  sp.sport,
		Device: workout.Device{Maker: "Zepp", Model: pl.deviceName},
	}
	// Pauses in about a third of the moving workouts.
	if sp.speed > 0 && r.IntN(3) == 0 {
		at := 300 * time.Second
		for k := 0; k < 1+r.IntN(3) && at < dur-200*time.Second; k++ {
			at += time.Duration(60+r.IntN(600)) * time.Second
			d := time.Duration(10+r.IntN(110)) * time.Second
			if at+d >= dur-60*time.Second {
				break
			}
			wo.Pauses = append(wo.Pauses, workout.Interval{Start: start.Add(at), End: start.Add(at + d)})
			at += d
		}
	}

	lat := pl.lat + (r.Float64()-0.5)*0.05
	lon := pl.lon + (r.Float64()-0.5)*0.05
	heading := r.Float64() * 2 * math.Pi
	alt0 := pl.altitude + r.Float64()*30
	var dist, ascent, descent, lastAlt float64
	var hrSum, hrN, maxHR int
	var steps float64
	wo.Samples = make([]workout.Sample, 0, int(dur/time.Second)+1)
	waves := genWaves()
	pause := 0 // the first pause not yet over
	for sec := 0; sec <= int(dur/time.Second); sec++ {
		t := start.Add(time.Duration(sec) * time.Second)
		for pause < len(wo.Pauses) && !t.Before(wo.Pauses[pause].End) {
			pause++
		}
		if pause < len(wo.Pauses) && !t.Before(wo.Pauses[pause].Start) {
			continue
		}
		s := workout.Sample{Time: t}
		ft := float64(sec)
		v := sp.speed * (1 + 0.08*waves.p97[sec] + 0.04*(r.Float64()-0.5))
		if sp.speed > 0 {
			dist += v
			s.SetDistance(math.Round(dist*10) / 10)
			s.SetSpeed(math.Round(v*100) / 100)
		}
		if sp.gps {
			heading += (r.Float64() - 0.5) * 0.15
			lat += v * math.Cos(heading) / 111320
			lon += v * math.Sin(heading) / (111320 * math.Cos(lat*math.Pi/180))
			s.SetPosition(math.Round(lat*1e7)/1e7, math.Round(lon*1e7)/1e7)
			alt := alt0 + 12*waves.p420[sec] + 4*waves.p61[sec]
			if sp.sport == workout.SportMountainHike || sp.sport == workout.SportTrailRun {
				alt += ft / 12
			}
			alt = math.Round(alt*10) / 10
			if sec > 0 {
				if d := alt - lastAlt; d > 0 {
					ascent += d
				} else {
					descent -= d
				}
			}
			lastAlt = alt
			s.SetAltitude(alt)
		}
		if !sp.noHR {
			ramp := math.Min(1, ft/300)
			hr := int(75 + float64(sp.hr-75)*ramp + 5*waves.p150[sec] + float64(r.IntN(5)) - 2)
			s.SetHeartRate(uint8(hr))
			hrSum += hr
			hrN++
			maxHR = max(maxHR, hr)
		}
		if sp.cadence > 0 {
			c := math.Round(sp.cadence + 4*waves.p45[sec] + float64(r.IntN(5)) - 2)
			s.SetCadence(c)
			if sp.sport.OnFoot() {
				steps += c / 60
			}
		}
		wo.Samples = append(wo.Samples, s)
	}
	paused := time.Duration(0)
	for _, p := range wo.Pauses {
		paused += p.Duration()
	}
	wo.Summary = workout.Summary{
		Distance: math.Round(dist),
		Elapsed:  dur,
		Moving:   dur - paused,
		Calories: math.Round(sp.kcalMin * (dur - paused).Minutes()),
		Ascent:   math.Round(ascent),
		Descent:  math.Round(descent),
		Steps:    int(steps),
	}
	if hrN > 0 {
		wo.Summary.AvgHR, wo.Summary.MaxHR = hrSum/hrN, maxHR
	}
	if sp.sport == workout.SportPoolSwim {
		wo.Summary.PoolLength = 25
		wo.Summary.Strokes = int(dist / 1.7)
		wo.Summary.Stroke = workout.StrokeFreestyle
		for l := 0; float64(l+1)*25 <= dist; l++ {
			ls := start.Add(time.Duration(float64(l)*25/sp.speed) * time.Second)
			wo.Lengths = append(wo.Lengths, workout.Length{Start: ls, Elapsed: time.Duration(25/sp.speed) * time.Second,
				Strokes: 15, Stroke: workout.StrokeFreestyle})
		}
	}
	return wo
}

// genRand is the random source of workout i.
func genRand(seed int64, i int) *rand.Rand {
	return rand.New(rand.NewPCG(uint64(seed), uint64(i)+0x9e3779b97f4a7c15))
}

// genPlace is the start area of workout i.
func genPlace(seed int64, i int) genArea {
	return genPlaces[(i/3+int(uint64(seed)%5))%len(genPlaces)]
}

// genStart is the start of workout i of the first lap (see GenerateOne):
// a local morning or evening start, one workout per ~29 h going back. It
// takes its draws from r, workout i's random source.
func genStart(seed int64, i int, r *rand.Rand) time.Time {
	pl := genPlace(seed, i)
	day := genEpoch.Add(-time.Duration(i%genSlots) * 29 * time.Hour)
	localHour := []int{6, 7, 12, 17, 18, 19}[r.IntN(6)]
	return day.Add(time.Duration(localHour)*time.Hour - pl.offset + time.Duration(r.IntN(3600))*time.Second).Truncate(time.Second)
}

// waves are sin(s/period) for every second s of the longest generated
// workout and each period the generator uses: the values math.Sin gives,
// computed once instead of for every sample of every workout.
type waves struct{ p45, p61, p97, p150, p420 []float64 }

var genWaves = sync.OnceValue(func() *waves {
	table := func(period float64) []float64 {
		t := make([]float64, 900+3600+1) // the longest workout
		for s := range t {
			t[s] = math.Sin(float64(s) / period)
		}
		return t
	}
	return &waves{table(45), table(61), table(97), table(150), table(420)}
})
