package files

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/bandsync/bandsync/internal/format"
	"github.com/bandsync/bandsync/internal/format/zeppjson"
	"github.com/bandsync/bandsync/internal/geo"
	"github.com/bandsync/bandsync/internal/workout"
	"github.com/klauspost/compress/gzip"
)

// IsWorkoutFile reports whether name has an extension this package reads:
// .fit, .gpx, .tcx or Zepp .json, optionally gzipped.
func IsWorkoutFile(name string) bool {
	_, _, err := format.FromName(name)
	return err == nil
}

// Decode decodes one workout file held in memory. name picks the format
// by its extension (".fit", ".gpx.gz", …); a ".gz" name is gunzipped with
// the same size limit as a file. summary is the Zepp summary JSON paired
// with a Zepp detail file, or nil. A Zepp detail whose location provider is
// "gaode" is marked as GCJ-02 (geo.MarkGCJ02). Errors do not name the
// file: the caller knows its name.
func Decode(name string, data, summary []byte) (*workout.Workout, error) {
	f, gz, err := format.FromName(name)
	if err != nil {
		return nil, err
	}
	if data, err = inflate(data, gz); err != nil {
		return nil, err
	}
	if f != format.ZeppJSON {
		return format.Decode(f, bytes.NewReader(data))
	}
	if summary != nil {
		if summary, err = inflate(summary, strings.HasSuffix(strings.ToLower(name), ".gz")); err != nil {
			return nil, fmt.Errorf("summary: %w", err)
		}
	}
	if isSummaryName(name) {
		// A summary without its detail: the workout's totals and no
		// streams. Nothing is made up for the missing detail.
		w, err := zeppjson.Decode(data, []byte("{}"))
		if err != nil {
			return nil, err
		}
		w.Notes = append(w.Notes, "only the summary file was found: no streams")
		return w, nil
	}
	w, err := zeppjson.Decode(summary, data)
	if err != nil {
		return nil, err
	}
	if gaode(data) {
		geo.MarkGCJ02(w, `Zepp location provider "gaode"`)
	}
	return w, nil
}

// inflate checks that data is not empty and gunzips it when gz, bounded by
// format.MaxFileSize.
func inflate(data []byte, gz bool) ([]byte, error) {
	if len(data) == 0 {
		return nil, errors.New("empty file")
	}
	if !gz {
		return data, nil
	}
	zr, err := gzip.NewReader(bytes.NewReader(data))
	if err != nil {
		return nil, fmt.Errorf("not a gzip file: %w", err)
	}
	out, err := io.ReadAll(io.LimitReader(zr, format.MaxFileSize+1))
	if err != nil {
		if errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, gzip.ErrChecksum) {
			return nil, fmt.Errorf("the gzip stream is truncated or damaged: %w", err)
		}
		return nil, fmt.Errorf("gunzip: %w", err)
	}
	if len(out) > format.MaxFileSize {
		return nil, fmt.Errorf("unpacks to more than %d MB: too large for a workout file", format.MaxFileSize>>20)
	}
	if len(out) == 0 {
		return nil, errors.New("empty file (inside the gzip stream)")
	}
	return out, nil
}

// gaode reports whether a Zepp detail names the "gaode" (AutoNavi)
// location provider, whose positions are GCJ-02 (zepp-cloud-api.md §3.3).
// format/zeppjson does not keep the field, so it is read here; the byte
// search keeps the full parse off the common path.
func gaode(detail []byte) bool {
	if !bytes.Contains(detail, []byte("gaode")) {
		return false
	}
	var d struct {
		Provider string `json:"provider"`
		Data     *struct {
			Provider string `json:"provider"`
		} `json:"data"`
	}
	if json.Unmarshal(detail, &d) != nil {
		return false
	}
	p := d.Provider
	if d.Data != nil && d.Data.Provider != "" {
		p = d.Data.Provider
	}
	return strings.EqualFold(p, "gaode")
}

// Zepp detail/summary file name pairs, as format.ReadFile pairs them.
var pairs = [][2]string{{"_detail.json", "_summary.json"}, {".detail.json", ".summary.json"}}

// SummaryName returns the name of the summary file that belongs to a Zepp
// detail file name ("run_1_detail.json" → "run_1_summary.json", ".gz"
// kept), or "" when name is not a detail file name.
func SummaryName(name string) string {
	base, gz := strings.CutSuffix(name, ".gz")
	for _, p := range pairs {
		if stem, ok := strings.CutSuffix(base, p[0]); ok {
			return stem + p[1] + strings.Repeat(".gz", b2i(gz))
		}
	}
	return ""
}

// DetailName is the inverse of SummaryName.
func DetailName(name string) string {
	base, gz := strings.CutSuffix(name, ".gz")
	for _, p := range pairs {
		if stem, ok := strings.CutSuffix(base, p[1]); ok {
			return stem + p[0] + strings.Repeat(".gz", b2i(gz))
		}
	}
	return ""
}

func isSummaryName(name string) bool { return DetailName(name) != "" }

func b2i(b bool) int {
	if b {
		return 1
	}
	return 0
}

// readFile reads a whole file, refusing directories and files beyond
// format.MaxFileSize. It returns the open file's info, so that the caller
// can check that it read the file it listed.
func readFile(path string) ([]byte, os.FileInfo, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, nil, err
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return nil, nil, err
	}
	if !fi.Mode().IsRegular() {
		return nil, fi, fmt.Errorf("not a regular file (%v)", fi.Mode().Type())
	}
	if fi.Size() > format.MaxFileSize {
		return nil, fi, fmt.Errorf("%d MB: too large for a workout file (limit %d MB)", fi.Size()>>20, format.MaxFileSize>>20)
	}
	data := make([]byte, 0, fi.Size())
	buf := bytes.NewBuffer(data)
	if _, err := io.Copy(buf, io.LimitReader(f, format.MaxFileSize+1)); err != nil {
		return nil, fi, err
	}
	if buf.Len() > format.MaxFileSize {
		return nil, fi, fmt.Errorf("grew past %d MB while being read", format.MaxFileSize>>20)
	}
	return buf.Bytes(), fi, nil
}
