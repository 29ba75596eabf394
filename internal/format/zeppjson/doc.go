// Package zeppjson decodes and encodes the workout JSON of the Huami / Zepp
// cloud (Zepp, Zepp Life, Mi Fit): the summary entries of
// /v1/sport/run/history.json and the stream object of /v1/sport/run/detail.json.
//
// The wire format is described in shared/reference/zepp-cloud-api.md §2.4
// (summary) and §3 (detail). In short, every detail stream is a string of
// ';'-separated entries with ','-separated fields:
//
//   - time, longitude_latitude, altitude are index-aligned, one entry per GPS
//     point. time holds Δt seconds (the first relative to the trackid, which is
//     the start in Unix seconds, UTC). longitude_latitude holds LATITUDE first,
//     in 1e-8 degrees, the first entry absolute and the rest deltas; an empty
//     entry is a placeholder (no fix at that time). altitude is absolute cm,
//     any value at or below -1000000 (-2000000, -200xxxx) meaning "none".
//   - heart_rate is "Δt,ΔHR" with a cumulative HR; an empty Δt means 1 s.
//   - gait "Δt,Δsteps,stride_cm,cadence_spm", speed "Δt,m/s", distance
//     "Δt,Δm" (cumulative), stroke_speed "Δt,strokes/s", cadence "Δt,rpm",
//     power_meter "Δt,W"; each stream has its own Δt chain from the trackid.
//   - pause "start_unix,duration_s,startIdx,stopIdx,type" (type 1 swim rest,
//     2 manual, 3 auto); kilo_pace "idx,moving_s,geohash,c4,avg_hr,cum_s,…"
//     per full kilometre; lap "idx,moving_s,distance_m,geohash,avg_hr,cum_s,…".
//
// Decoding is faithful: a sample exists at a second only when some stream
// recorded a value there, and it carries only the fields recorded at that
// second (position at GPS timestamps, heart rate at heart-rate timestamps, and
// so on). Nothing is interpolated or held. Readings the format uses as "no
// value" (heart rate 0, altitude sentinels, gait cadence 0) leave the field
// absent; implausible readings are dropped and counted in Workout.Notes.
// Structurally broken input (bad JSON, wrong JSON types, unparsable numbers,
// time going backwards, absurd sizes) is an error naming the field and the
// entry index (counted from 0).
//
// Encode writes the same wire format back, as the cloud sends it (unwrapped
// objects, version 15 style), so that Decode(Encode(w)) reproduces every field
// the format can carry; see Encode for what it cannot.
package zeppjson
