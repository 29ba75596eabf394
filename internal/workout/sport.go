package workout

import (
	"fmt"
	"sort"
)

// Sport is what a workout was. Its String form (e.g. "trail-run") is stable
// and used in configuration, JSON output and file names.
type Sport uint8

// Sports. The zero value is SportOther.
const (
	SportOther Sport = iota
	SportRun
	SportTrailRun
	SportTreadmill
	SportWalk
	SportIndoorWalk
	SportRaceWalk
	SportHike
	SportMountainHike
	SportRide
	SportIndoorRide
	SportMountainBike
	SportGravelRide
	SportEBike
	SportEMountainBike
	SportBMX
	SportPoolSwim
	SportOpenWaterSwim
	SportElliptical
	SportStairStepper
	SportIndoorRowing
	SportRowing
	SportKayaking
	SportCanoeing
	SportSailing
	SportStandUpPaddling
	SportSurfing
	SportWindsurfing
	SportKitesurfing
	SportStrength
	SportHIIT
	SportCrossTraining
	SportFreeTraining
	SportYoga
	SportPilates
	SportStretching
	SportJumpRope
	SportDance
	SportBoxing
	SportMartialArts
	SportClimbing
	SportAlpineSki
	SportCrossCountrySki
	SportSnowboard
	SportIceSkate
	SportInlineSkate
	SportSkateboard
	SportTennis
	SportBadminton
	SportTableTennis
	SportSquash
	SportPickleball
	SportPadel
	SportBasketball
	SportSoccer
	SportVolleyball
	SportCricket
	SportBaseball
	SportGolf
	numSports
)

// FIT sport and sub_sport numbers (FIT profile, as in muktihari/fit typedef).
// Kept here as plain numbers so this package depends on nothing.
const (
	fitGeneric, fitRunning, fitCycling, fitFitnessEquipment, fitSwimming = 0, 1, 2, 4, 5
	fitBasketball, fitSoccer, fitTennis, fitTraining, fitWalking         = 6, 7, 8, 10, 11
	fitXCSki, fitAlpineSki, fitSnowboard, fitRowing, fitMountaineering   = 12, 13, 14, 15, 16
	fitHiking, fitEBiking, fitGolf, fitInlineSkating, fitRockClimbing    = 17, 21, 25, 30, 31
	fitSailing, fitIceSkating, fitSUP, fitSurfing, fitKayaking           = 32, 33, 37, 38, 41
	fitWindsurfing, fitKitesurfing, fitBoxing, fitBaseball, fitHIIT      = 43, 44, 47, 49, 62
	fitRacket, fitCricket, fitVolleyball, fitMMA, fitDance, fitJumpRope  = 64, 71, 75, 80, 83, 84
	fitCanoeing                                                          = 88

	subGeneric, subTreadmill, subTrail, subIndoorCycling, subRoad = 0, 1, 3, 6, 7
	subMountain, subIndoorRowing, subElliptical, subStair         = 8, 14, 15, 16
	subLapSwimming, subOpenWater, subFlexibility, subStrength     = 17, 18, 19, 20
	subCardio, subIndoorWalking, subBMX, subSpeedWalking          = 26, 27, 29, 31
	subYoga, subPilates, subGravel, subEBikeMountain              = 43, 44, 46, 47
	subHIIT, subPickleball, subPadel, subSquash, subTableTennis   = 70, 84, 85, 94, 97
	subBadminton                                                  = 95
)

type sportInfo struct {
	id          string
	name        string
	fitSport    uint8
	fitSub      uint8
	strava      string // Strava sport_type
	trainer     bool   // Strava's trainer flag (indoor)
	zepp        []int  // Zepp cloud summary.type codes; the first is canonical
	gadgetbridg []int  // Gadgetbridge ActivityKind codes; the first is canonical
}

// sports is the one mapping table. Sources: ../shared/reference/
// zepp-cloud-api.md §4 (Zepp codes), offline-formats.md appendix A
// (Gadgetbridge ActivityKind), strava-api.md §3.6 and §6.8 (Strava sport
// types and FIT sport/sub_sport).
var sports = [numSports]sportInfo{
	SportOther:           {"other", "Other", fitGeneric, subGeneric, "Workout", false, []int{223}, []int{0x0, 0x1}},
	SportRun:             {"run", "Run", fitRunning, subGeneric, "Run", false, []int{1, 192}, []int{0x10, 0x40000b1}},
	SportTrailRun:        {"trail-run", "Trail run", fitRunning, subTrail, "TrailRun", false, []int{7}, []int{0x40000f2, 0x4000067}},
	SportTreadmill:       {"treadmill", "Treadmill run", fitRunning, subTreadmill, "Run", true, []int{8}, []int{0x100, 0x40000b0}},
	SportWalk:            {"walk", "Walk", fitWalking, subGeneric, "Walk", false, []int{6, 13}, []int{0x20, 0x40000b2}},
	SportIndoorWalk:      {"indoor-walk", "Indoor walk", fitWalking, subIndoorWalking, "Walk", true, []int{40}, []int{0x4000012}},
	SportRaceWalk:        {"race-walk", "Race walk", fitWalking, subSpeedWalking, "Walk", false, []int{131}, []int{0x40000d5}},
	SportHike:            {"hike", "Hike", fitHiking, subGeneric, "Hike", false, []int{22, 225}, []int{0x400000, 0x40000f1}},
	SportMountainHike:    {"mountain-hike", "Mountain hike", fitMountaineering, subGeneric, "Hike", false, []int{224}, []int{0x40000e2, 0x4000017}},
	SportRide:            {"ride", "Ride", fitCycling, subGeneric, "Ride", false, []int{9, 211}, []int{0x80, 0x40000b3, 0x4000004}},
	SportIndoorRide:      {"indoor-ride", "Indoor ride", fitCycling, subIndoorCycling, "Ride", true, []int{10, 143}, []int{0x800, 0x40000d9}},
	SportMountainBike:    {"mountain-bike", "Mountain bike ride", fitCycling, subMountain, "MountainBikeRide", false, nil, nil},
	SportGravelRide:      {"gravel-ride", "Gravel ride", fitCycling, subGravel, "GravelRide", false, []int{208}, nil},
	SportEBike:           {"e-bike", "E-bike ride", fitEBiking, subGeneric, "EBikeRide", false, []int{206}, []int{0x4000003}},
	SportEMountainBike:   {"e-mountain-bike", "E-mountain bike ride", fitCycling, subEBikeMountain, "EMountainBikeRide", false, []int{207}, nil},
	SportBMX:             {"bmx", "BMX", fitCycling, subBMX, "Ride", false, []int{48}, []int{0x40000b9}},
	SportPoolSwim:        {"pool-swim", "Pool swim", fitSwimming, subLapSwimming, "Swim", false, []int{14}, []int{0x40, 0x400000a}},
	SportOpenWaterSwim:   {"open-water-swim", "Open water swim", fitSwimming, subOpenWater, "Swim", false, []int{15}, []int{0x400}},
	SportElliptical:      {"elliptical", "Elliptical", fitFitnessEquipment, subElliptical, "Elliptical", true, []int{12, 144}, []int{0x1000, 0x40000b6}},
	SportStairStepper:    {"stair-stepper", "Stair stepper", fitFitnessEquipment, subStair, "StairStepper", true, []int{54, 57}, []int{0x4000008, 0x40000db, 0x40000dc}},
	SportIndoorRowing:    {"indoor-rowing", "Rowing machine", fitFitnessEquipment, subIndoorRowing, "Rowing", true, []int{23}, []int{0x10000}},
	SportRowing:          {"rowing", "Rowing", fitRowing, subGeneric, "Rowing", false, []int{66, 138}, []int{0x4000016}},
	SportKayaking:        {"kayaking", "Kayaking", fitKayaking, subGeneric, "Kayaking", false, []int{140}, []int{0x4000034}},
	SportCanoeing:        {"canoeing", "Canoeing", fitCanoeing, subGeneric, "Canoeing", false, nil, []int{0x40000ea}},
	SportSailing:         {"sailing", "Sailing", fitSailing, subGeneric, "Sail", false, []int{65}, []int{0x40000a2}},
	SportStandUpPaddling: {"stand-up-paddling", "Stand-up paddling", fitSUP, subGeneric, "StandUpPaddling", false, nil, []int{0x4000030}},
	SportSurfing:         {"surfing", "Surfing", fitSurfing, subGeneric, "Surfing", false, []int{172}, []int{0x4000031}},
	SportWindsurfing:     {"windsurfing", "Windsurfing", fitWindsurfing, subGeneric, "Windsurf", false, nil, []int{0x4000036}},
	SportKitesurfing:     {"kitesurfing", "Kitesurfing", fitKitesurfing, subGeneric, "Kitesurf", false, nil, []int{0x4000037}},
	SportStrength:        {"strength", "Strength training", fitTraining, subStrength, "WeightTraining", false, []int{52, 50, 145, 149, 150}, []int{0x200000, 0x400006a}},
	SportHIIT:            {"hiit", "HIIT", fitHIIT, subHIIT, "HighIntensityIntervalTraining", false, []int{49, 167}, []int{0x4000045}},
	SportCrossTraining:   {"cross-training", "Cross-training", fitTraining, subCardio, "Crossfit", false, []int{130}, []int{0x4000062, 0x400006f}},
	SportFreeTraining:    {"free-training", "Free training", fitTraining, subGeneric, "Workout", false, []int{16, 24, 51, 59, 109, 111, 129}, []int{0x200, 0x400005e, 0x400000f, 0x40000cb}},
	SportYoga:            {"yoga", "Yoga", fitTraining, subYoga, "Yoga", false, []int{60}, []int{0x4000}},
	SportPilates:         {"pilates", "Pilates", fitTraining, subPilates, "Pilates", false, []int{61}, []int{0x4000009}},
	SportStretching:      {"stretching", "Stretching", fitTraining, subFlexibility, "Workout", false, []int{53, 55}, []int{0x40000dd, 0x4000074}},
	SportJumpRope:        {"jump-rope", "Jump rope", fitJumpRope, subGeneric, "Workout", false, []int{21}, []int{0x2000}},
	SportDance:           {"dance", "Dance", fitDance, subGeneric, "Dance", false, []int{76, 71, 72, 73, 74, 75, 77, 112, 113, 146, 165, 166, 168, 185}, []int{0x400005c}},
	SportBoxing:          {"boxing", "Boxing", fitBoxing, subGeneric, "Workout", false, []int{97, 104}, []int{0x400003a, 0x4000060}},
	SportMartialArts:     {"martial-arts", "Martial arts", fitMMA, subGeneric, "Workout", false, []int{103, 95, 96, 98, 99, 100, 101, 102, 114, 147, 148}, []int{0x4000088, 0x400005b}},
	SportClimbing:        {"climbing", "Climbing", fitRockClimbing, subGeneric, "RockClimbing", false, []int{70, 184}, []int{0x800000, 0x4000026, 0x4000028}},
	SportAlpineSki:       {"alpine-ski", "Alpine ski", fitAlpineSki, subGeneric, "AlpineSki", false, []int{105}, []int{0x4000014}},
	SportCrossCountrySki: {"cross-country-ski", "Cross-country ski", fitXCSki, subGeneric, "NordicSki", false, nil, []int{0x4000013, 0x40000a8}},
	SportSnowboard:       {"snowboard", "Snowboard", fitSnowboard, subGeneric, "Snowboard", false, nil, []int{0x4000015}},
	SportIceSkate:        {"ice-skate", "Ice skating", fitIceSkating, subGeneric, "IceSkate", false, []int{44, 45}, []int{0x400002c, 0x40000cc}},
	SportInlineSkate:     {"inline-skate", "Inline skating", fitInlineSkating, subGeneric, "InlineSkate", false, []int{69}, []int{0x4000025, 0x4000087}},
	SportSkateboard:      {"skateboard", "Skateboarding", fitGeneric, subGeneric, "Skateboard", false, []int{67}, []int{0x40000ac}},
	SportTennis:          {"tennis", "Tennis", fitTennis, subGeneric, "Tennis", false, []int{17}, []int{0x400000b}},
	SportBadminton:       {"badminton", "Badminton", fitRacket, subBadminton, "Badminton", false, []int{92}, []int{0x100000}},
	SportTableTennis:     {"table-tennis", "Table tennis", fitRacket, subTableTennis, "TableTennis", false, []int{89}, []int{0x80000, 0x400000d}},
	SportSquash:          {"squash", "Squash", fitRacket, subSquash, "Squash", false, []int{81}, []int{0x400004a}},
	SportPickleball:      {"pickleball", "Pickleball", fitRacket, subPickleball, "Pickleball", false, nil, []int{0x4000048}},
	SportPadel:           {"padel", "Padel", fitRacket, subPadel, "Padel", false, nil, []int{0x4000049}},
	SportBasketball:      {"basketball", "Basketball", fitBasketball, subGeneric, "Basketball", false, []int{85}, []int{0x40000}},
	SportSoccer:          {"soccer", "Soccer", fitSoccer, subGeneric, "Soccer", false, []int{191, 164}, []int{0x8000}},
	SportVolleyball:      {"volleyball", "Volleyball", fitVolleyball, subGeneric, "Volleyball", false, []int{88, 122}, []int{0x4000058, 0x400009f}},
	SportCricket:         {"cricket", "Cricket", fitCricket, subGeneric, "Cricket", false, []int{78}, []int{0x20000}},
	SportBaseball:        {"baseball", "Baseball", fitBaseball, subGeneric, "Workout", false, []int{79, 86}, []int{0x400003c, 0x400003d}},
	SportGolf:            {"golf", "Golf", fitGolf, subGeneric, "Golf", false, nil, []int{0x4000020}},
}

var (
	byID          = map[string]Sport{}
	byZepp        = map[int]Sport{}
	byGadgetbridg = map[int]Sport{}
	byFIT         = map[[2]uint8]Sport{}
)

func init() {
	for s := Sport(0); s < numSports; s++ {
		info := sports[s]
		if info.id == "" {
			panic(fmt.Sprintf("workout: sport %d has no table row", s))
		}
		byID[info.id] = s
		for _, c := range info.zepp {
			if prev, dup := byZepp[c]; dup {
				panic(fmt.Sprintf("workout: Zepp code %d maps to both %s and %s", c, prev, s))
			}
			byZepp[c] = s
		}
		for _, c := range info.gadgetbridg {
			if prev, dup := byGadgetbridg[c]; dup {
				panic(fmt.Sprintf("workout: Gadgetbridge kind %#x maps to both %s and %s", c, prev, s))
			}
			byGadgetbridg[c] = s
		}
		k := [2]uint8{info.fitSport, info.fitSub}
		if _, dup := byFIT[k]; !dup {
			byFIT[k] = s
		}
	}
}

// Sports lists every sport, in declaration order.
func Sports() []Sport {
	out := make([]Sport, numSports)
	for i := range out {
		out[i] = Sport(i)
	}
	return out
}

func (s Sport) info() sportInfo {
	if s >= numSports {
		return sports[SportOther]
	}
	return sports[s]
}

// String is the sport's stable identifier, e.g. "trail-run".
func (s Sport) String() string { return s.info().id }

// Title is a human-readable name, e.g. "Trail run".
func (s Sport) Title() string { return s.info().name }

// ParseSport parses a String form.
func ParseSport(id string) (Sport, error) {
	if s, ok := byID[id]; ok {
		return s, nil
	}
	ids := make([]string, 0, len(byID))
	for k := range byID {
		ids = append(ids, k)
	}
	sort.Strings(ids)
	return SportOther, fmt.Errorf("unknown sport %q (known: %v)", id, ids)
}

// MarshalText implements encoding.TextMarshaler.
func (s Sport) MarshalText() ([]byte, error) { return []byte(s.String()), nil }

// UnmarshalText implements encoding.TextUnmarshaler.
func (s *Sport) UnmarshalText(b []byte) error {
	v, err := ParseSport(string(b))
	*s = v
	return err
}

// FIT returns the FIT sport and sub_sport numbers for the sport.
func (s Sport) FIT() (sport, subSport uint8) { i := s.info(); return i.fitSport, i.fitSub }

// Strava returns Strava's sport_type for the sport and whether Strava's
// trainer (indoor) flag should be set.
func (s Sport) Strava() (sportType string, trainer bool) {
	i := s.info()
	return i.strava, i.trainer
}

// Indoor reports whether the sport is done in place (treadmill, trainer,
// machines), so a missing GPS track is expected.
func (s Sport) Indoor() bool { return s.info().trainer || s == SportPoolSwim }

// OnFoot reports whether cadence is in steps per minute.
func (s Sport) OnFoot() bool {
	switch s {
	case SportRun, SportTrailRun, SportTreadmill, SportWalk, SportIndoorWalk, SportRaceWalk, SportHike, SportMountainHike:
		return true
	}
	return false
}

// Swimming reports whether the sport is a swim.
func (s Sport) Swimming() bool { return s == SportPoolSwim || s == SportOpenWaterSwim }

// ZeppType returns the canonical Zepp cloud type code, or 0 when the sport
// has none.
func (s Sport) ZeppType() int {
	if z := s.info().zepp; len(z) > 0 {
		return z[0]
	}
	return 0
}

// GadgetbridgeKind returns the canonical Gadgetbridge ActivityKind code, or 0
// (UNKNOWN) when the sport has none.
func (s Sport) GadgetbridgeKind() int {
	if g := s.info().gadgetbridg; len(g) > 0 {
		return g[0]
	}
	return 0
}

// SportFromZepp maps a Zepp cloud summary.type. Multisport legs carry a
// 1000+ prefix (1009 is a cycling leg), which is stripped. ok is false for
// an unknown code, which maps to SportOther: callers must warn, not drop.
func SportFromZepp(code int) (s Sport, ok bool) {
	if code > 1000 && code < 2000 {
		code -= 1000
	}
	s, ok = byZepp[code]
	return s, ok
}

// SportFromGadgetbridge maps a Gadgetbridge ActivityKind code; ok is false
// for an unknown code (SportOther).
func SportFromGadgetbridge(kind int) (s Sport, ok bool) {
	s, ok = byGadgetbridg[kind]
	return s, ok
}

// SportFromFIT maps FIT sport and sub_sport numbers. An unknown sub_sport
// falls back to the sport's generic row; ok is false when even the sport is
// unknown (SportOther).
func SportFromFIT(sport, subSport uint8) (s Sport, ok bool) {
	if s, ok := byFIT[[2]uint8{sport, subSport}]; ok {
		return s, true
	}
	switch {
	case sport == fitRunning && subSport == 45: // indoor_running
		return SportTreadmill, true
	case sport == fitFitnessEquipment && subSport == subTreadmill:
		return SportTreadmill, true
	case sport == fitFitnessEquipment && subSport == subIndoorCycling:
		return SportIndoorRide, true
	case sport == fitCycling && subSport == subRoad:
		return SportRide, true
	case sport == fitCycling && subSport == 58: // virtual_activity
		return SportIndoorRide, true
	}
	if s, ok := byFIT[[2]uint8{sport, subGeneric}]; ok {
		return s, true
	}
	return SportOther, sport == fitGeneric
}
