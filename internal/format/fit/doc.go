// Package fit encodes workouts as FIT activity files for Strava and decodes
// FIT activity files from bands, watches and apps into workouts.
//
// Decode is built on github.com/muktihari/fit's decoder. Encode writes the
// FIT bytes itself (writer.go), with field numbers and base types from that
// library's FIT profile: a one-hour run encodes in a fraction of a
// millisecond with a handful of allocations. Encode follows what Strava reads
// from a FIT file (../shared/reference/strava-api.md §6): the real device in
// file_id and device_info, timer events at pauses so Strava keeps the band's
// moving time, cadence in FIT's strides per minute for running and walking,
// and laps, lengths and session totals. Tests check every file Encode writes
// with Garmin's own FIT SDK (tools/fitcheck).
package fit
