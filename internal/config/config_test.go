package config

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func write(t *testing.T, body string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "config.toml")
	if err := os.WriteFile(p, []byte(body), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestMissingFileGivesDefaults(t *testing.T) {
	c, err := Load(filepath.Join(t.TempDir(), "none.toml"), false)
	if err != nil {
		t.Fatal(err)
	}
	if c.Strava.ZeppLink != "skip" || !c.Strava.BackfillMute || c.Archive.Formats[0] != "fit" {
		t.Fatalf("defaults: %+v", c)
	}
	if _, err := Load(filepath.Join(t.TempDir(), "none.toml"), true); err == nil {
		t.Fatal("an explicit --config that does not exist must fail")
	}
}

func TestLoadOverridesDefaults(t *testing.T) {
	c, err := Load(write(t, "[strava]\nzepp_link = \"keep-both\"\nbackfill_mute = false\n[archive]\nformats = [\"gpx\", \"tcx\"]\n"), true)
	if err != nil {
		t.Fatal(err)
	}
	if c.Strava.ZeppLink != "keep-both" || c.Strava.BackfillMute || len(c.Archive.Formats) != 2 || c.Strava.IndoorRide != "Ride" {
		t.Fatalf("got %+v", c)
	}
}

func TestUnknownKeyHasLineAndColumn(t *testing.T) {
	_, err := Load(write(t, "[strava]\nzepp_link = \"skip\"\n  zep_link = \"x\"\n"), true)
	if err == nil || !strings.Contains(err.Error(), ":3:") || !strings.Contains(err.Error(), "strava.zep_link") {
		t.Fatalf("err = %v", err)
	}
}

func TestSyntaxErrorHasPosition(t *testing.T) {
	_, err := Load(write(t, "a = \n"), true)
	if err == nil || !strings.Contains(err.Error(), ":1:") {
		t.Fatalf("err = %v", err)
	}
}

func TestValidate(t *testing.T) {
	if _, err := Load(write(t, "[strava]\nindoor_ride = \"Zwift\"\n"), true); err == nil {
		t.Fatal("bad indoor_ride accepted")
	}
}

func TestEnvAndMask(t *testing.T) {
	c := Default()
	env := map[string]string{"BANDSYNC_STRAVA_URL": "http://127.0.0.1:1", "BANDSYNC_STRAVA_CLIENT_SECRET": "s3cret"}
	c.ApplyEnv(func(k string) string { return env[k] })
	if c.Strava.URL != "http://127.0.0.1:1" {
		t.Fatal("env not applied")
	}
	out, err := c.Masked().Marshal()
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(string(out), "s3cret") {
		t.Fatal("secret shown")
	}
}

func TestWrongTypeNamesTheSetting(t *testing.T) {
	_, err := Load(write(t, "[strava]\nbackfill_mute = \"yes\"\n"), true)
	if err == nil || !strings.Contains(err.Error(), ":2:") || !strings.Contains(err.Error(), "true or false") || strings.Contains(err.Error(), "BackfillMute") {
		t.Fatalf("err = %v", err)
	}
}
