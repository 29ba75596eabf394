package api

// SportType is Strava's sport_type (strava-api.md §3.6). Strava adds values
// over time, so any string decodes; Known says whether this build knows it.
type SportType string

// knownSportTypes are the 56 values of the spec's sportType enum (2026-06).
var knownSportTypes = map[SportType]bool{}

func init() {
	for _, s := range []SportType{
		"AlpineSki", "BackcountrySki", "Badminton", "Basketball", "Canoeing", "Cricket", "Crossfit",
		"Dance", "EBikeRide", "Elliptical", "EMountainBikeRide", "Golf", "GravelRide", "Handcycle",
		"HighIntensityIntervalTraining", "Hike", "IceSkate", "InlineSkate", "Kayaking", "Kitesurf",
		"MountainBikeRide", "NordicSki", "Padel", "PhysicalTherapy", "Pickleball", "Pilates",
		"Racquetball", "Ride", "RockClimbing", "RollerSki", "Rowing", "Run", "Sail", "Skateboard",
		"Snowboard", "Snowshoe", "Soccer", "Squash", "StairStepper", "StandUpPaddling", "Surfing",
		"Swim", "TableTennis", "Tennis", "TrailRun", "Velomobile", "VirtualRide", "VirtualRow",
		"VirtualRun", "Volleyball", "Walk", "WeightTraining", "Wheelchair", "Windsurf", "Workout", "Yoga",
	} {
		knownSportTypes[s] = true
	}
}

// Known reports whether s is one of the sport types in the spec this build
// was written against.
func (s SportType) Known() bool { return knownSportTypes[s] }

// LegacyType is the deprecated activity "type" Strava still sends beside
// sport_type: new sport types fold into an older one (MountainBikeRide is a
// Ride). Types newer than the legacy enum and unknown values map to
// "Workout" (an approximation: Strava does not publish the folding).
func (s SportType) LegacyType() string {
	switch s {
	case "MountainBikeRide", "GravelRide":
		return "Ride"
	case "EMountainBikeRide":
		return "EBikeRide"
	case "TrailRun":
		return "Run"
	case "Badminton", "Basketball", "Cricket", "Dance", "HighIntensityIntervalTraining", "Padel",
		"PhysicalTherapy", "Pickleball", "Pilates", "Racquetball", "Squash", "TableTennis", "Tennis",
		"Volleyball":
		return "Workout"
	}
	if s.Known() {
		return string(s)
	}
	return "Workout"
}
