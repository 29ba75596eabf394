package gadgetbridge

import "github.com/bandsync/bandsync/internal/workout"

// huamiSports maps the sport code of a classic Huami summary blob (offset
// 2, Gadgetbridge's HuamiSportsActivityType) to a sport. Source:
// offline-formats.md §2.6.
var huamiSports = map[int]workout.Sport{
	1:    workout.SportRun,
	2:    workout.SportTreadmill,
	3:    workout.SportWalk,
	4:    workout.SportRide,
	5:    workout.SportFreeTraining, // "Exercise"
	6:    workout.SportPoolSwim,
	7:    workout.SportOpenWaterSwim,
	8:    workout.SportIndoorRide,
	9:    workout.SportElliptical,
	10:   workout.SportClimbing,
	15:   workout.SportHike,
	0x12: workout.SportSoccer,
	0x15: workout.SportJumpRope,
	0x17: workout.SportIndoorRowing,
	0x34: workout.SportStrength,
	0x3c: workout.SportYoga,
	0x4e: workout.SportCricket,
	0x55: workout.SportBasketball,
	0x59: workout.SportTableTennis,
	0x5c: workout.SportBadminton,
}

// zeppOSSports maps the Type.type of a Zepp OS summary (Gadgetbridge's
// ZeppOsActivityType) to a sport; codes not listed are SportOther.
// Source: offline-formats.md §2.6. Unlike Gadgetbridge's own mapping, which
// stores most of these as ACTIVITY_KIND 0, every code with a canonical
// sport is mapped here.
var zeppOSSports = map[int]workout.Sport{
	1: workout.SportRun, 2: workout.SportTreadmill, 3: workout.SportWalk, 4: workout.SportRide,
	5: workout.SportFreeTraining, 6: workout.SportPoolSwim, 7: workout.SportOpenWaterSwim,
	8: workout.SportIndoorRide, 9: workout.SportElliptical, 15: workout.SportHike, 17: workout.SportTennis,
	21: workout.SportJumpRope, 23: workout.SportIndoorRowing, 24: workout.SportFreeTraining,
	44: workout.SportIceSkate, 45: workout.SportIceSkate, 48: workout.SportBMX, 49: workout.SportHIIT,
	50: workout.SportStrength, 51: workout.SportFreeTraining, 52: workout.SportStrength,
	53: workout.SportStretching, 54: workout.SportStairStepper, 55: workout.SportStretching,
	57: workout.SportStairStepper, 60: workout.SportYoga, 61: workout.SportPilates, 65: workout.SportSailing,
	66: workout.SportRowing, 67: workout.SportSkateboard, 69: workout.SportInlineSkate,
	70: workout.SportClimbing, 71: workout.SportDance, 72: workout.SportDance, 73: workout.SportDance,
	74: workout.SportDance, 75: workout.SportDance, 76: workout.SportDance, 77: workout.SportDance,
	78: workout.SportCricket, 79: workout.SportBaseball, 81: workout.SportSquash, 85: workout.SportBasketball,
	86: workout.SportBaseball, 88: workout.SportVolleyball, 89: workout.SportTableTennis,
	92: workout.SportBadminton, 95: workout.SportMartialArts, 96: workout.SportMartialArts,
	97: workout.SportBoxing, 98: workout.SportMartialArts, 99: workout.SportMartialArts,
	100: workout.SportMartialArts, 101: workout.SportMartialArts, 102: workout.SportMartialArts,
	103: workout.SportMartialArts, 104: workout.SportBoxing, 109: workout.SportFreeTraining,
	112: workout.SportDance, 113: workout.SportDance, 122: workout.SportVolleyball,
	130: workout.SportCrossTraining, 131: workout.SportRaceWalk, 138: workout.SportRowing,
	140: workout.SportKayaking, 143: workout.SportIndoorRide, 144: workout.SportElliptical,
	145: workout.SportStrength, 146: workout.SportDance, 147: workout.SportMartialArts,
	149: workout.SportStrength, 150: workout.SportStrength, 164: workout.SportSoccer,
	165: workout.SportDance, 166: workout.SportDance, 167: workout.SportHIIT, 168: workout.SportDance,
	185: workout.SportDance, 191: workout.SportSoccer,
}

// sportOf picks a workout's sport: the summary blob's own code first (it
// survives where Gadgetbridge stored ACTIVITY_KIND 0), then ACTIVITY_KIND.
// ok is false when neither is known.
func sportOf(sum *rawSummary, kind int) (workout.Sport, bool) {
	if sum != nil && sum.hasSport {
		table := huamiSports
		if sum.zeppOS {
			table = zeppOSSports
		}
		if s, ok := table[sum.sport]; ok {
			return s, true
		}
	}
	return workout.SportFromGadgetbridge(kind)
}
