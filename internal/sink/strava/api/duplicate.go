package api

// duplicateMarker is the text Strava puts in a duplicate upload's error, in
// both forms seen (strava-api.md §2.4):
//
//	"test.fit duplicate of activity 14296882"
//	"ext-4.fit duplicate of <a href='/activities/18260018524' target='_blank'>Morning Ride</a>"
const duplicateMarker = "duplicate of"

// maxDuplicateGap bounds how far after the marker the activity number may
// start, so unrelated digits much later in a long HTML error are not taken.
const maxDuplicateGap = 128

// ParseDuplicate reports whether msg is Strava's "duplicate of activity N"
// error, in its text or its HTML-link form, and returns N. The activity ID
// is 0 when the text says duplicate but names no readable ID.
func ParseDuplicate(msg string) (activityID int64, ok bool) {
	i := indexFold(msg, duplicateMarker)
	if i < 0 {
		return 0, false
	}
	rest := msg[i+len(duplicateMarker):]
	// The link form names the activity in its href; the text form after
	// "activity". Either way the ID is the first run of digits.
	if j := indexFold(rest, "/activities/"); j >= 0 && j < maxDuplicateGap {
		rest = rest[j+len("/activities/"):]
	}
	start := -1
	for k := 0; k < len(rest) && k < maxDuplicateGap; k++ {
		if rest[k] >= '0' && rest[k] <= '9' {
			start = k
			break
		}
	}
	if start < 0 {
		return 0, true
	}
	var id int64
	for k := start; k < len(rest) && rest[k] >= '0' && rest[k] <= '9'; k++ {
		d := int64(rest[k] - '0')
		if id > (1<<63-1-d)/10 {
			return 0, true // overflow: not a Strava ID
		}
		id = id*10 + d
	}
	return id, true
}

// indexFold is strings.Index ignoring ASCII case; sub must be lower case.
// Strava's error text is ASCII, and this stays linear on long HTML bodies.
func indexFold(s, sub string) int {
	n := len(sub)
	for i := 0; i+n <= len(s); i++ {
		j := 0
		for j < n && lowerASCII(s[i+j]) == sub[j] {
			j++
		}
		if j == n {
			return i
		}
	}
	return -1
}

func lowerASCII(c byte) byte {
	if 'A' <= c && c <= 'Z' {
		return c + 'a' - 'A'
	}
	return c
}
