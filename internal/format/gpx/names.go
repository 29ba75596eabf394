package gpx

import (
	"strings"

	"github.com/bandsync/bandsync/internal/workout"
)

// sportAliases are names other writers give sports, in normalised form (see
// normName), beyond the sport's own identifier, title and Strava sport_type,
// which SportFromName knows already. They cover Garmin Connect and Strava GPX
// types, Gadgetbridge ActivityKind names (offline-formats.md appendix A) and
// the Amazfit watch's "Running".
var sportAliases = []struct {
	sport workout.Sport
	names []string
}{
	{workout.SportRun, []string{"running", "jogging", "outdoorrunning", "streetrunning", "roadrunning", "trackrunning"}},
	{workout.SportTrailRun, []string{"trailrunning", "crosscountryrunning"}},
	{workout.SportTreadmill, []string{"treadmillrunning", "indoorrunning", "virtualrun"}},
	{workout.SportWalk, []string{"walking", "outdoorwalking", "casualwalking"}},
	{workout.SportIndoorWalk, []string{"indoorwalking"}},
	{workout.SportRaceWalk, []string{"racewalking", "speedwalking"}},
	{workout.SportHike, []string{"hiking", "trekking"}},
	{workout.SportMountainHike, []string{"mountaineering"}},
	{workout.SportRide, []string{"cycling", "biking", "bike", "roadbiking", "roadcycling", "outdoorcycling", "bikecommute"}},
	{workout.SportIndoorRide, []string{"indoorcycling", "spinning", "virtualride"}},
	{workout.SportMountainBike, []string{"mountainbiking", "mtb"}},
	{workout.SportGravelRide, []string{"gravelcycling", "gravelbiking"}},
	{workout.SportEBike, []string{"ebiking"}},
	{workout.SportEMountainBike, []string{"emountainbiking"}},
	// A GPX track is a GPS track, so an unqualified swim is in open water.
	{workout.SportOpenWaterSwim, []string{"swimming", "swim", "openwaterswimming", "swimmingopenwater"}},
	{workout.SportPoolSwim, []string{"lapswimming", "poolswimming"}},
	{workout.SportIndoorRowing, []string{"rowingmachine", "indoorrowing"}},
	{workout.SportElliptical, []string{"ellipticaltrainer"}},
	{workout.SportAlpineSki, []string{"skiing", "alpineskiing", "downhillskiing"}},
	{workout.SportCrossCountrySki, []string{"crosscountryskiing", "xcclassicski"}},
	{workout.SportSnowboard, []string{"snowboarding"}},
	{workout.SportIceSkate, []string{"iceskating"}},
	{workout.SportInlineSkate, []string{"inlineskating", "rollerskating"}},
	{workout.SportSkateboard, []string{"skateboarding"}},
	{workout.SportClimbing, []string{"rockclimbing"}},
	{workout.SportStandUpPaddling, []string{"standuppaddleboarding"}},
	{workout.SportKayaking, []string{"paddling"}},
}

// sportNames maps every normalised name SportFromName accepts.
var sportNames = func() map[string]workout.Sport {
	m := make(map[string]workout.Sport)
	add := func(name string, s workout.Sport) {
		if _, dup := m[normName(name)]; !dup {
			m[normName(name)] = s
		}
	}
	for _, s := range workout.Sports() {
		add(s.String(), s)
		add(s.Title(), s)
	}
	for _, a := range sportAliases {
		for _, name := range a.names {
			add(name, a.sport)
		}
	}
	// Strava sport types last: several sports share one (Run is also a
	// treadmill run), and the declaration order puts the plain sport first.
	for _, s := range workout.Sports() {
		st, _ := s.Strava()
		add(st, s)
	}
	return m
}()

// normName lowercases name and drops everything but letters and digits, so
// "Trail run", "trail-run", "TRAIL_RUN" and "TrailRun" compare equal.
func normName(name string) string {
	b := make([]byte, 0, len(name))
	for _, r := range strings.ToLower(name) {
		if r >= 'a' && r <= 'z' || r >= '0' && r <= '9' {
			b = append(b, byte(r))
		}
	}
	return string(b)
}

// SportFromName maps a sport name as GPX and TCX writers spell it (bandsync's
// own identifiers, Strava sport types, Garmin and Gadgetbridge names, in any
// case and with any separators) to a sport. ok is false for an unknown name,
// which maps to SportOther. Numeric codes are not accepted: their meaning
// depends on the writer.
func SportFromName(name string) (s workout.Sport, ok bool) {
	s, ok = sportNames[normName(name)]
	return s, ok
}

// makers are the first words of device names that name the maker. Brands
// that are part of the product name ("Amazfit Bip 3", "Xiaomi Smart Band 8")
// are in brandMakers instead.
var makers = []string{"Huami", "Zepp", "Garmin", "Huawei", "Polar", "Suunto", "Coros", "Wahoo"}

// brandMakers maps a product-name brand to its maker.
var brandMakers = map[string]string{"amazfit": "Zepp", "xiaomi": "Xiaomi", "redmi": "Xiaomi", "mi": "Xiaomi"}

// appNames are creators that name an app, not the device that recorded.
var appNames = []string{"gadgetbridge", "gbapplication", "bandsync", "strava", "garmin connect", "connect api"}

// DeviceName is the name under which GPX and TCX files name the device: the
// model, preceded by the maker unless the model already starts with it. It
// is empty when neither is known.
func DeviceName(d workout.Device) string {
	maker, model := strings.TrimSpace(d.Maker), strings.TrimSpace(d.Model)
	switch {
	case model == "":
		return maker
	case maker == "" || strings.HasPrefix(strings.ToLower(model), strings.ToLower(maker)):
		return model
	}
	return maker + " " + model
}

// DeviceFromName reads a device back from a GPX creator or TCX Creator name.
// A leading maker becomes Maker; a brand that is part of the product name
// gives Maker and stays in Model. Names of apps (Gadgetbridge, Strava,
// bandsync itself) give no device. DeviceFromName(DeviceName(d)) has the
// same DeviceName as d.
func DeviceFromName(name string) workout.Device {
	name = trimCreator(name)
	lower := strings.ToLower(name)
	for _, app := range appNames {
		if strings.HasPrefix(lower, app) {
			return workout.Device{}
		}
	}
	first, rest, _ := strings.Cut(name, " ")
	for _, m := range makers {
		if strings.EqualFold(first, m) {
			return workout.Device{Maker: m, Model: strings.TrimSpace(rest)}
		}
	}
	if m, ok := brandMakers[strings.ToLower(first)]; ok {
		return workout.Device{Maker: m, Model: name}
	}
	return workout.Device{Model: name}
}
