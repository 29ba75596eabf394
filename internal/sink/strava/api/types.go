// Package api holds the wire types of Strava's API v3 as bandsync uses
// them, and parsers for the parts of Strava's answers that are not JSON
// models: the rate-limit headers and the duplicate-upload error text.
//
// Field names and shapes follow Strava's Swagger file (specs/strava/
// swagger.flattened.json); where the spec is silent (upload status strings,
// rate limits, OAuth bodies) they follow strava-api.md. Only the fields
// bandsync reads or the emulator serves are listed; unknown fields are
// ignored when decoding.
package api

import (
	"strconv"
	"strings"
	"time"
)

// Upload statuses, exactly as Strava writes them (strava-api.md §2.5).
// Branch on Upload.Error and Upload.ActivityID first; the strings are for
// logs and the emulator.
const (
	StatusProcessing = "Your activity is still being processed."
	StatusReady      = "Your activity is ready."
	StatusError      = "There was an error processing your activity."
	StatusDeleted    = "The created activity has been deleted."
)

// Upload is Strava's upload object (POST /uploads, GET /uploads/{id}).
// Error and ActivityID are null until set, so they are pointers.
type Upload struct {
	ID         int64   `json:"id"`
	IDStr      string  `json:"id_str"`
	ExternalID string  `json:"external_id"`
	Error      *string `json:"error"`
	Status     string  `json:"status"`
	ActivityID *int64  `json:"activity_id"`
}

// ErrorText is the upload's error, or "".
func (u *Upload) ErrorText() string {
	if u.Error == nil {
		return ""
	}
	return *u.Error
}

// Activity returns the activity ID, or 0 while there is none.
func (u *Upload) Activity() int64 {
	if u.ActivityID == nil {
		return 0
	}
	return *u.ActivityID
}

// MetaAthlete is the athlete reference inside an activity.
type MetaAthlete struct {
	ID int64 `json:"id"`
}

// PolylineMap is an activity's map summary.
type PolylineMap struct {
	ID              string `json:"id"`
	SummaryPolyline string `json:"summary_polyline"`
	Polyline        string `json:"polyline,omitempty"`
}

// SummaryActivity is an element of GET /athlete/activities. Fields that
// Strava sends as null when unset (external_id, gear_id) are pointers.
type SummaryActivity struct {
	ID                 int64       `json:"id"`
	ResourceState      int         `json:"resource_state"`
	ExternalID         *string     `json:"external_id"`
	UploadID           int64       `json:"upload_id"`
	UploadIDStr        string      `json:"upload_id_str,omitempty"`
	Athlete            MetaAthlete `json:"athlete"`
	Name               string      `json:"name"`
	Distance           float64     `json:"distance"`
	MovingTime         int         `json:"moving_time"`
	ElapsedTime        int         `json:"elapsed_time"`
	TotalElevationGain float64     `json:"total_elevation_gain"`
	Type               string      `json:"type"`
	SportType          SportType   `json:"sport_type"`
	StartDate          time.Time   `json:"start_date"`
	StartDateLocal     time.Time   `json:"start_date_local"`
	Timezone           string      `json:"timezone"`
	UTCOffset          float64     `json:"utc_offset"`
	StartLatLng        []float64   `json:"start_latlng"`
	EndLatLng          []float64   `json:"end_latlng"`
	Map                PolylineMap `json:"map"`
	DeviceName         string      `json:"device_name,omitempty"`
	Trainer            bool        `json:"trainer"`
	Commute            bool        `json:"commute"`
	Manual             bool        `json:"manual"`
	Private            bool        `json:"private"`
	Visibility         string      `json:"visibility,omitempty"`
	Flagged            bool        `json:"flagged"`
	HideFromHome       bool        `json:"hide_from_home"`
	GearID             *string     `json:"gear_id"`
	AverageSpeed       float64     `json:"average_speed"`
	MaxSpeed           float64     `json:"max_speed"`
	AverageCadence     float64     `json:"average_cadence,omitempty"`
	HasHeartrate       bool        `json:"has_heartrate"`
	AverageHeartrate   float64     `json:"average_heartrate,omitempty"`
	MaxHeartrate       float64     `json:"max_heartrate,omitempty"`
}

// External returns the external_id, or "".
func (a *SummaryActivity) External() string {
	if a.ExternalID == nil {
		return ""
	}
	return *a.ExternalID
}

// Gear returns the gear_id, or "".
func (a *SummaryActivity) Gear() string {
	if a.GearID == nil {
		return ""
	}
	return *a.GearID
}

// DetailedActivity is GET/PUT /activities/{id}: the summary plus details.
type DetailedActivity struct {
	SummaryActivity
	Description *string `json:"description"`
	Calories    float64 `json:"calories"`
}

// UpdatableActivity is the body of PUT /activities/{id}. Only the fields
// set are sent, so a PUT changes nothing else.
type UpdatableActivity struct {
	Name         *string   `json:"name,omitempty"`
	Description  *string   `json:"description,omitempty"`
	SportType    SportType `json:"sport_type,omitempty"`
	GearID       *string   `json:"gear_id,omitempty"`
	Trainer      *bool     `json:"trainer,omitempty"`
	Commute      *bool     `json:"commute,omitempty"`
	HideFromHome *bool     `json:"hide_from_home,omitempty"`
}

// Empty reports whether the update sets nothing.
func (u *UpdatableActivity) Empty() bool {
	return u.Name == nil && u.Description == nil && u.SportType == "" && u.GearID == nil &&
		u.Trainer == nil && u.Commute == nil && u.HideFromHome == nil
}

// SummaryAthlete is GET /athlete (bandsync needs only who it is).
type SummaryAthlete struct {
	ID            int64     `json:"id"`
	ResourceState int       `json:"resource_state"`
	Firstname     string    `json:"firstname"`
	Lastname      string    `json:"lastname"`
	City          string    `json:"city"`
	Country       string    `json:"country"`
	Sex           string    `json:"sex,omitempty"`
	Premium       bool      `json:"premium"`
	Summit        bool      `json:"summit"`
	CreatedAt     time.Time `json:"created_at"`
	UpdatedAt     time.Time `json:"updated_at"`
}

// Fault is Strava's error body: {"message": …, "errors": [...]}.
type Fault struct {
	Message string       `json:"message"`
	Errors  []FaultError `json:"errors"`
}

// FaultError is one entry of Fault.Errors.
type FaultError struct {
	Resource string `json:"resource"`
	Field    string `json:"field"`
	Code     string `json:"code"`
}

// Error renders the fault as "Authorization Error (Athlete access_token invalid)".
func (f *Fault) Error() string {
	var b strings.Builder
	b.WriteString(f.Message)
	for i, e := range f.Errors {
		if i == 0 {
			b.WriteString(" (")
		} else {
			b.WriteString("; ")
		}
		b.WriteString(strings.TrimSpace(e.Resource + " " + e.Field + " " + e.Code))
		if i == len(f.Errors)-1 {
			b.WriteString(")")
		}
	}
	return b.String()
}

// Has reports whether the fault lists an error on resource and field.
func (f *Fault) Has(resource, field string) bool {
	for _, e := range f.Errors {
		if e.Resource == resource && e.Field == field {
			return true
		}
	}
	return false
}

// TokenResponse is the body of POST /oauth/token. Athlete is present for
// the authorization_code grant only.
type TokenResponse struct {
	TokenType    string          `json:"token_type"`
	AccessToken  string          `json:"access_token"`
	ExpiresAt    int64           `json:"expires_at"`
	ExpiresIn    int64           `json:"expires_in"`
	RefreshToken string          `json:"refresh_token"`
	Athlete      *SummaryAthlete `json:"athlete,omitempty"`
}

// StreamBase is what every stream carries besides its data.
type StreamBase struct {
	OriginalSize int    `json:"original_size"`
	Resolution   string `json:"resolution"`
	SeriesType   string `json:"series_type"`
}

// IntStream is a stream of integers (time in s, heartrate in bpm, cadence).
type IntStream struct {
	StreamBase
	Data []int `json:"data"`
}

// FloatStream is a stream of numbers (distance, altitude, velocity_smooth).
type FloatStream struct {
	StreamBase
	Data []float64 `json:"data"`
}

// LatLngStream is a stream of [lat, lng] pairs in degrees.
type LatLngStream struct {
	StreamBase
	Data [][2]float64 `json:"data"`
}

// BoolStream is a stream of booleans (moving).
type BoolStream struct {
	StreamBase
	Data []bool `json:"data"`
}

// StreamSet is GET /activities/{id}/streams?key_by_type=true.
type StreamSet struct {
	Time           *IntStream    `json:"time,omitempty"`
	Distance       *FloatStream  `json:"distance,omitempty"`
	LatLng         *LatLngStream `json:"latlng,omitempty"`
	Altitude       *FloatStream  `json:"altitude,omitempty"`
	VelocitySmooth *FloatStream  `json:"velocity_smooth,omitempty"`
	Heartrate      *IntStream    `json:"heartrate,omitempty"`
	Cadence        *IntStream    `json:"cadence,omitempty"`
	Watts          *IntStream    `json:"watts,omitempty"`
	Moving         *BoolStream   `json:"moving,omitempty"`
}

// ParseID parses a Strava int64 ID ("12345"); ok is false for anything else.
func ParseID(s string) (int64, bool) {
	id, err := strconv.ParseInt(s, 10, 64)
	return id, err == nil && id > 0
}

// FormatID is ParseID's inverse.
func FormatID(id int64) string { return strconv.FormatInt(id, 10) }
