// Package config reads bandsync's TOML configuration. Every setting has a
// default, so no file is needed; environment variables override the file
// and flags override both (the CLI applies those).
package config

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"

	"github.com/pelletier/go-toml/v2"
)

// Config is the whole configuration. Field tags are the TOML keys.
type Config struct {
	// DataDir holds the store, tokens and (by default) the archive.
	DataDir string `toml:"data_dir,omitempty"`
	// TokenStore is "auto" (system keyring, else 0600 files), "keyring" or "file".
	TokenStore string `toml:"token_store"`
	// Coords says which datum sources' positions are in: "auto" converts
	// China's GCJ-02 to WGS-84 where a workout says it was recorded so
	// (the "gaode" provider), "wgs84" never converts, "gcj02" converts
	// every point inside China.
	Coords string `toml:"coords"`

	Strava  Strava  `toml:"strava"`
	Zepp    Zepp    `toml:"zepp"`
	Archive Archive `toml:"archive"`
}

// Strava settings.
type Strava struct {
	// URL replaces Strava's hosts (tests, the demo, compatible servers).
	URL          string `toml:"url,omitempty"`
	ClientID     string `toml:"client_id,omitempty"`
	ClientSecret string `toml:"client_secret,omitempty"`
	// ZeppLink is what to do when Zepp's own Strava link already posted a
	// workout: "skip" (record it as a duplicate) or "keep-both".
	ZeppLink string `toml:"zepp_link"`
	// IndoorRide is the sport type for indoor cycling: "Ride" (with the
	// trainer flag) or "VirtualRide".
	IndoorRide string `toml:"indoor_ride"`
	// BackfillMute hides backfilled workouts older than 7 days from
	// followers' feeds.
	BackfillMute bool `toml:"backfill_mute"`
	// GearID is a Strava gear ID (e.g. "g12345") given to uploaded workouts.
	GearID string `toml:"gear_id,omitempty"`
	// LegacyIdentity writes the "Huami Amazfit Pace" device identity that
	// Zepp's own link uses, instead of the real band.
	LegacyIdentity bool `toml:"legacy_identity"`
}

// Zepp settings.
type Zepp struct {
	// URL replaces every Zepp host (tests, the demo, compatible servers).
	URL string `toml:"url,omitempty"`
	// Region pins the account's region instead of discovering it.
	Region string `toml:"region,omitempty"`
}

// Archive settings.
type Archive struct {
	// Path is the archive folder (default DATA_DIR/archive).
	Path string `toml:"path,omitempty"`
	// Formats are the file formats written: any of "fit", "gpx", "tcx".
	Formats []string `toml:"formats"`
}

// Default returns the configuration used when there is no file.
func Default() Config {
	return Config{
		TokenStore: "auto",
		Coords:     "auto",
		Strava:     Strava{ZeppLink: "skip", IndoorRide: "Ride", BackfillMute: true},
		Archive:    Archive{Formats: []string{"fit"}},
	}
}

// DefaultPath is $XDG_CONFIG_HOME/bandsync/config.toml (or the OS's
// equivalent).
func DefaultPath() string {
	dir, err := os.UserConfigDir()
	if err != nil {
		return "bandsync.toml"
	}
	return filepath.Join(dir, "bandsync", "config.toml")
}

// DefaultDataDir is BANDSYNC_DATA_DIR, else $XDG_DATA_HOME/bandsync, else
// ~/.local/share/bandsync.
func DefaultDataDir() string {
	if d := os.Getenv("BANDSYNC_DATA_DIR"); d != "" {
		return d
	}
	if d := os.Getenv("XDG_DATA_HOME"); d != "" {
		return filepath.Join(d, "bandsync")
	}
	if home, err := os.UserHomeDir(); err == nil {
		return filepath.Join(home, ".local", "share", "bandsync")
	}
	return "bandsync-data"
}

// Load reads path over the defaults. A missing file is not an error when
// mustExist is false (the default path). Unknown keys are rejected with
// their line and column.
func Load(path string, mustExist bool) (Config, error) {
	c := Default()
	data, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) && !mustExist {
		return c, c.Validate()
	}
	if err != nil {
		return c, fmt.Errorf("read config: %w", err)
	}
	dec := toml.NewDecoder(bytes.NewReader(data)).DisallowUnknownFields()
	if err := dec.Decode(&c); err != nil {
		var sm *toml.StrictMissingError
		if errors.As(err, &sm) {
			var b strings.Builder
			for _, e := range sm.Errors {
				row, col := e.Position()
				fmt.Fprintf(&b, "%s:%d:%d: unknown setting %q\n", path, row, col, strings.Join(e.Key(), "."))
			}
			return c, fmt.Errorf("%sremove or correct it (the README's configuration section lists the settings)", b.String())
		}
		var de *toml.DecodeError
		if errors.As(err, &de) {
			row, col := de.Position()
			return c, fmt.Errorf("%s:%d:%d: %s", path, row, col, friendly(de.Error()))
		}
		return c, fmt.Errorf("%s: %w", path, err)
	}
	return c, c.Validate()
}

// wrongType matches go-toml's message for a value of the wrong type, which
// names Go fields rather than settings.
var wrongType = regexp.MustCompile(`cannot decode TOML (\w+) into struct field [\w.]+ of type ([\w\[\]]+)`)

// friendly rewrites a decoding error in the file's own terms.
func friendly(msg string) string {
	msg = strings.TrimPrefix(msg, "toml: ")
	if m := wrongType.FindStringSubmatch(msg); m != nil {
		want := map[string]string{"bool": "true or false", "string": "a quoted string", "[]string": `a list of strings, e.g. ["fit"]`}[m[2]]
		if want == "" {
			want = "a " + m[2]
		}
		got := "a " + m[1]
		if strings.ContainsRune("aeiou", rune(m[1][0])) {
			got = "an " + m[1]
		}
		return fmt.Sprintf("this setting takes %s, not %s", want, got)
	}
	return msg
}

// ApplyEnv overrides settings from BANDSYNC_* environment variables.
func (c *Config) ApplyEnv(getenv func(string) string) {
	set := func(dst *string, key string) {
		if v := getenv(key); v != "" {
			*dst = v
		}
	}
	set(&c.DataDir, "BANDSYNC_DATA_DIR")
	set(&c.TokenStore, "BANDSYNC_TOKEN_STORE")
	set(&c.Strava.URL, "BANDSYNC_STRAVA_URL")
	set(&c.Strava.ClientID, "BANDSYNC_STRAVA_CLIENT_ID")
	set(&c.Strava.ClientSecret, "BANDSYNC_STRAVA_CLIENT_SECRET")
	set(&c.Zepp.URL, "BANDSYNC_ZEPP_URL")
}

// Validate checks enumerated settings.
func (c *Config) Validate() error {
	switch c.TokenStore {
	case "auto", "keyring", "file":
	default:
		return fmt.Errorf("token_store = %q: use auto, keyring or file", c.TokenStore)
	}
	switch c.Coords {
	case "auto", "wgs84", "gcj02":
	default:
		return fmt.Errorf("coords = %q: use auto, wgs84 or gcj02", c.Coords)
	}
	switch c.Strava.ZeppLink {
	case "skip", "keep-both":
	default:
		return fmt.Errorf("strava.zepp_link = %q: use skip or keep-both", c.Strava.ZeppLink)
	}
	switch c.Strava.IndoorRide {
	case "Ride", "VirtualRide":
	default:
		return fmt.Errorf("strava.indoor_ride = %q: use Ride or VirtualRide", c.Strava.IndoorRide)
	}
	for _, f := range c.Archive.Formats {
		switch f {
		case "fit", "gpx", "tcx":
		default:
			return fmt.Errorf("archive.formats: unknown format %q: use fit, gpx or tcx", f)
		}
	}
	return nil
}

// Masked returns a copy with secrets replaced, for `config show`.
func (c Config) Masked() Config {
	if c.Strava.ClientSecret != "" {
		c.Strava.ClientSecret = "********"
	}
	return c
}

// Marshal renders the configuration as TOML.
func (c Config) Marshal() ([]byte, error) { return toml.Marshal(c) }
