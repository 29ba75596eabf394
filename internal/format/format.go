// Package format picks a codec by file name and reads or writes workout
// files: FIT, GPX, TCX and the Zepp cloud's JSON, each optionally gzipped.
// The codecs themselves live in the sub-packages.
package format

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/bandsync/bandsync/internal/atomicfile"
	"github.com/bandsync/bandsync/internal/format/fit"
	"github.com/bandsync/bandsync/internal/format/gpx"
	"github.com/bandsync/bandsync/internal/format/tcx"
	"github.com/bandsync/bandsync/internal/format/zeppjson"
	"github.com/bandsync/bandsync/internal/workout"
	"github.com/klauspost/compress/gzip"
)

// Format is a workout file format.
type Format string

// Formats.
const (
	FIT      Format = "fit"
	GPX      Format = "gpx"
	TCX      Format = "tcx"
	ZeppJSON Format = "json" // Zepp cloud detail (and summary) JSON; read only
)

// Writable lists the formats Encode can write.
var Writable = []Format{FIT, GPX, TCX}

// MaxFileSize bounds what is read from one file. The longest band workouts
// are a few MB; anything near this is not a workout file.
const MaxFileSize = 256 << 20

// Options tune encoding.
type Options struct {
	FIT fit.EncodeOptions
}

// ParseFormat parses a --to/--format value.
func ParseFormat(s string) (Format, error) {
	switch f := Format(strings.ToLower(strings.TrimPrefix(s, "."))); f {
	case FIT, GPX, TCX:
		return f, nil
	}
	return "", fmt.Errorf("unknown format %q: use fit, gpx or tcx", s)
}

// FromName returns the format of a file name by its extension, and whether
// it is gzipped (".fit.gz").
func FromName(name string) (f Format, gz bool, err error) {
	base := strings.ToLower(filepath.Base(name))
	if strings.HasSuffix(base, ".gz") {
		gz = true
		base = strings.TrimSuffix(base, ".gz")
	}
	switch ext := filepath.Ext(base); ext {
	case ".fit":
		return FIT, gz, nil
	case ".gpx":
		return GPX, gz, nil
	case ".tcx":
		return TCX, gz, nil
	case ".json":
		return ZeppJSON, gz, nil
	default:
		return "", false, fmt.Errorf("%s: unknown file type %q: bandsync reads .fit, .gpx, .tcx and Zepp .json files (optionally .gz)", name, ext)
	}
}

// ReadFile decodes one workout file, choosing the codec by extension. For a
// Zepp detail file named X_detail.json (or X.detail.json) the summary
// X_summary.json beside it is read too, when present. Errors name the file.
func ReadFile(path string) (*workout.Workout, error) {
	f, gz, err := FromName(path)
	if err != nil {
		return nil, err
	}
	if f == ZeppJSON && detailOf(path) != "" {
		return nil, fmt.Errorf("%s is a Zepp workout summary, which holds no track: use its detail file %s (the summary beside it is read with it)", path, detailOf(path))
	}
	data, err := readLimited(path, gz)
	if err != nil {
		return nil, err
	}
	var w *workout.Workout
	if f == ZeppJSON {
		var summary []byte
		if sp := summaryBeside(path); sp != "" {
			if summary, err = readLimited(sp, strings.HasSuffix(strings.ToLower(sp), ".gz")); err != nil {
				return nil, err
			}
		}
		w, err = zeppjson.Decode(summary, data)
	} else {
		w, err = Decode(f, bytes.NewReader(data))
	}
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return w, nil
}

// Decode reads one workout in format f from r.
func Decode(f Format, r io.Reader) (*workout.Workout, error) {
	switch f {
	case FIT:
		return fit.Decode(r)
	case GPX:
		return gpx.Decode(r)
	case TCX:
		return tcx.Decode(r)
	case ZeppJSON:
		data, err := io.ReadAll(io.LimitReader(r, MaxFileSize))
		if err != nil {
			return nil, err
		}
		return zeppjson.Decode(nil, data)
	}
	return nil, fmt.Errorf("unknown format %q", f)
}

// Encode writes w in format f.
func Encode(out io.Writer, f Format, w *workout.Workout, opt Options) error {
	switch f {
	case FIT:
		return fit.Encode(out, w, opt.FIT)
	case GPX:
		return gpx.Encode(out, w)
	case TCX:
		return tcx.Encode(out, w)
	}
	return fmt.Errorf("cannot write %q files: use fit, gpx or tcx", f)
}

// WriteFile encodes w into path, choosing the codec by extension (gzipped
// for ".gz"), atomically: a failure never leaves a half-written file.
func WriteFile(path string, w *workout.Workout, opt Options) error {
	f, gz, err := FromName(path)
	if err != nil {
		return err
	}
	if f == ZeppJSON {
		return fmt.Errorf("%s: bandsync does not write Zepp JSON: use .fit, .gpx or .tcx", path)
	}
	err = atomicfile.Write(path, 0o644, func(out io.Writer) error {
		if !gz {
			return Encode(out, f, w, opt)
		}
		zw := gzip.NewWriter(out)
		if err := Encode(zw, f, w, opt); err != nil {
			return err
		}
		return zw.Close()
	})
	if err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	return nil
}

// detailOf returns the detail file name that belongs to a Zepp summary file
// name (X_summary.json → X_detail.json), or "" for other names.
func detailOf(path string) string {
	dir, base := filepath.Split(path)
	for _, pair := range [][2]string{{"_summary.json", "_detail.json"}, {".summary.json", ".detail.json"}} {
		for _, gz := range []string{"", ".gz"} {
			if strings.HasSuffix(strings.ToLower(base), pair[0]+gz) {
				return filepath.Join(dir, base[:len(base)-len(pair[0]+gz)]+pair[1]+gz)
			}
		}
	}
	return ""
}

// summaryBeside finds the summary file that belongs to a Zepp detail file.
func summaryBeside(path string) string {
	dir, base := filepath.Split(path)
	for _, pair := range [][2]string{{"_detail.json", "_summary.json"}, {".detail.json", ".summary.json"}} {
		for _, gz := range []string{"", ".gz"} {
			if strings.HasSuffix(base, pair[0]+gz) {
				cand := filepath.Join(dir, strings.TrimSuffix(base, pair[0]+gz)+pair[1]+gz)
				if _, err := os.Stat(cand); err == nil {
					return cand
				}
			}
		}
	}
	return ""
}

// readLimited reads a whole file (gunzipping it when gz), refusing
// directories, empty files and files beyond MaxFileSize with errors that
// name the file.
func readLimited(path string, gz bool) ([]byte, error) {
	fi, err := os.Stat(path)
	if err != nil {
		return nil, err
	}
	if fi.IsDir() {
		return nil, fmt.Errorf("%s is a directory, not a workout file", path)
	}
	if fi.Size() == 0 {
		return nil, fmt.Errorf("%s is empty", path)
	}
	if fi.Size() > MaxFileSize {
		return nil, fmt.Errorf("%s is %d MB: too large for a workout file (limit %d MB)", path, fi.Size()>>20, MaxFileSize>>20)
	}
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	var r io.Reader = f
	if gz {
		zr, err := gzip.NewReader(f)
		if err != nil {
			return nil, fmt.Errorf("%s: not a gzip file: %w", path, err)
		}
		defer zr.Close()
		r = zr
	}
	data, err := io.ReadAll(io.LimitReader(r, MaxFileSize+1))
	if err != nil {
		if gz && (errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, gzip.ErrChecksum)) {
			return nil, fmt.Errorf("%s: the gzip stream is truncated or damaged: %w", path, err)
		}
		return nil, fmt.Errorf("read %s: %w", path, err)
	}
	if len(data) > MaxFileSize {
		return nil, fmt.Errorf("%s unpacks to more than %d MB: too large for a workout file", path, MaxFileSize>>20)
	}
	return data, nil
}
