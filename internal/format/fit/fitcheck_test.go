package fit

import (
	"bytes"
	"encoding/json"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"
)

// garminCheck is what tools/fitcheck/check-fit.mjs prints: Garmin's own FIT
// SDK's reading of a file. Absent values are null (nil pointers here).
type garminCheck struct {
	OK             bool     `json:"ok"`
	IsFIT          bool     `json:"isFIT"`
	CheckIntegrity bool     `json:"checkIntegrity"`
	DecodeErrors   []string `json:"decodeErrors"`
	FileID         struct {
		Type         *string `json:"type"`
		Manufacturer any     `json:"manufacturer"` // name, or a number the SDK does not know
		Product      *int    `json:"product"`
		ProductName  *string `json:"productName"`
		SerialNumber *uint32 `json:"serialNumber"`
		TimeCreated  *string `json:"timeCreated"`
	} `json:"fileId"`
	DeviceInfos []struct {
		DeviceIndex     any      `json:"deviceIndex"`
		Manufacturer    any      `json:"manufacturer"`
		Product         *int     `json:"product"`
		ProductName     *string  `json:"productName"`
		SoftwareVersion *float64 `json:"softwareVersion"`
	} `json:"deviceInfos"`
	Session struct {
		StartTime        *string  `json:"startTime"`
		Timestamp        *string  `json:"timestamp"`
		TotalElapsedTime *float64 `json:"totalElapsedTime"`
		TotalTimerTime   *float64 `json:"totalTimerTime"`
		TotalDistance    *float64 `json:"totalDistance"`
		Sport            *string  `json:"sport"`
		SubSport         *string  `json:"subSport"`
		TotalCalories    *float64 `json:"totalCalories"`
		AvgHeartRate     *int     `json:"avgHeartRate"`
		MaxHeartRate     *int     `json:"maxHeartRate"`
		AvgCadence       *float64 `json:"avgCadence"`
		AvgFracCadence   *float64 `json:"avgFractionalCadence"`
		TotalStrides     *float64 `json:"totalStrides"`
		TotalStrokes     *float64 `json:"totalStrokes"`
		PoolLength       *float64 `json:"poolLength"`
		NumLengths       *int     `json:"numLengths"`
		NumActiveLengths *int     `json:"numActiveLengths"`
		NumLaps          *int     `json:"numLaps"`
		SwimStroke       *string  `json:"swimStroke"`
	} `json:"session"`
	Activity struct {
		Timestamp      *string  `json:"timestamp"`
		LocalTimestamp any      `json:"localTimestamp"`
		TotalTimerTime *float64 `json:"totalTimerTime"`
		NumSessions    *int     `json:"numSessions"`
	} `json:"activity"`
	SessionCount int `json:"sessionCount"`
	RecordCount  int `json:"recordCount"`
	Records      []struct {
		Timestamp         string   `json:"timestamp"`
		PositionLat       *int32   `json:"positionLat"`
		PositionLong      *int32   `json:"positionLong"`
		HeartRate         *int     `json:"heartRate"`
		Cadence           *float64 `json:"cadence"`
		FractionalCadence *float64 `json:"fractionalCadence"`
		Distance          *float64 `json:"distance"`
		EnhancedAltitude  *float64 `json:"enhancedAltitude"`
		EnhancedSpeed     *float64 `json:"enhancedSpeed"`
		Power             *int     `json:"power"`
	} `json:"records"`
	LapCount int `json:"lapCount"`
	Laps     []struct {
		StartTime        *string  `json:"startTime"`
		TotalElapsedTime *float64 `json:"totalElapsedTime"`
		TotalTimerTime   *float64 `json:"totalTimerTime"`
		TotalDistance    *float64 `json:"totalDistance"`
		NumLengths       *int     `json:"numLengths"`
		FirstLengthIndex *int     `json:"firstLengthIndex"`
	} `json:"laps"`
	LengthCount int `json:"lengthCount"`
	Lengths     []struct {
		StartTime    *string `json:"startTime"`
		TotalStrokes *int    `json:"totalStrokes"`
		SwimStroke   *string `json:"swimStroke"`
		LengthType   *string `json:"lengthType"`
	} `json:"lengths"`
	TimerEvents []struct {
		Timestamp string `json:"timestamp"`
		EventType string `json:"eventType"`
	} `json:"timerEvents"`
}

// repoRoot walks up from the package directory to the one holding go.mod.
func repoRoot(t testing.TB) string {
	t.Helper()
	dir, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			t.Fatal("no go.mod above the test directory")
		}
		dir = parent
	}
}

// requireGarminSDK returns the repository root when node and Garmin's FIT
// SDK (tools/fitcheck) are installed. Without them it skips the test,
// loudly; under CI (BANDSYNC_CI=1) that is a failure, because then nothing
// checked the file.
func requireGarminSDK(t *testing.T) string {
	t.Helper()
	root := repoRoot(t)
	missing := ""
	if _, err := exec.LookPath("node"); err != nil {
		missing = "node is not installed"
	} else if _, err := os.Stat(filepath.Join(root, "tools", "fitcheck", "node_modules", "@garmin", "fitsdk")); err != nil {
		missing = "tools/fitcheck/node_modules is missing (run: cd tools/fitcheck && npm ci)"
	}
	if missing != "" {
		msg := "!!!!! GARMIN FIT SDK CHECK NOT RUN: " + missing + " — the FIT output of this test was NOT validated by Garmin's SDK !!!!!"
		if os.Getenv("BANDSYNC_CI") == "1" {
			t.Fatal(msg)
		}
		t.Skip(msg)
	}
	return root
}

// garminSDK runs Garmin's FIT SDK on path through tools/fitcheck (see
// requireGarminSDK for when it is not installed).
func garminSDK(t *testing.T, path string) *garminCheck {
	t.Helper()
	script := filepath.Join(requireGarminSDK(t), "tools", "fitcheck", "check-fit.mjs")
	cmd := exec.Command("node", script, path)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	var exit *exec.ExitError
	if err != nil && !errors.As(err, &exit) {
		t.Fatalf("run %s: %v\n%s", script, err, stderr.String())
	}
	var res garminCheck
	if jerr := json.Unmarshal(stdout.Bytes(), &res); jerr != nil {
		t.Fatalf("check-fit.mjs output (exit %v): %v\nstdout: %.500s\nstderr: %s", err, jerr, stdout.String(), stderr.String())
	}
	return &res
}

// sdkTime parses a date the SDK printed (RFC 3339).
func sdkTime(t *testing.T, s *string) time.Time {
	t.Helper()
	if s == nil {
		t.Fatal("Garmin SDK: date missing")
	}
	v, err := time.Parse(time.RFC3339, *s)
	if err != nil {
		t.Fatalf("Garmin SDK date %q: %v", *s, err)
	}
	return v
}
