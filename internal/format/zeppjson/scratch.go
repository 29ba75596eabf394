package zeppjson

import "sync"

// scratch holds a decode's intermediate buffers: the GPS points, the
// parsed streams and buildSamples' index of seconds. They are about as big
// as the workout itself, are garbage once the workout is built, and are
// reused through a pool so that decoding many workouts allocates little
// more than the workouts.
type scratch struct {
	gps []gpsPoint
	pts []valPoint
	idx []int32
}

var scratchPool = sync.Pool{New: func() any { return new(scratch) }}

// maxPooled bounds the buffers kept for reuse (in elements), so that one
// huge detail does not pin its memory.
const maxPooled = 1 << 17

func getScratch() *scratch { return scratchPool.Get().(*scratch) }

func (s *scratch) put() {
	if cap(s.gps) > maxPooled || cap(s.pts) > maxPooled || cap(s.idx) > maxPooled {
		return
	}
	scratchPool.Put(s)
}

// gpsPoints returns an empty buffer with room for n points.
func (s *scratch) gpsPoints(n int) []gpsPoint {
	if cap(s.gps) < n {
		s.gps = make([]gpsPoint, 0, n)
	}
	return s.gps[:0]
}

// points returns a buffer of n points, to be carved up by the caller.
func (s *scratch) points(n int) []valPoint {
	if cap(s.pts) < n {
		s.pts = make([]valPoint, n)
	}
	return s.pts[:n]
}

// index returns n zeroed int32s.
func (s *scratch) index(n int) []int32 {
	if cap(s.idx) < n {
		s.idx = make([]int32, n)
		return s.idx
	}
	s.idx = s.idx[:n]
	clear(s.idx)
	return s.idx
}

// release returns the detail's buffers to the pool; the detail's streams
// must not be used afterwards.
func (d *detail) release() {
	if d.scratch == nil {
		return
	}
	d.scratch.put()
	d.scratch = nil
	d.gps, d.hr, d.gait, d.speed, d.distance, d.curDist, d.stroke, d.cadence, d.power, d.tdAlt = nil, nil, nil, nil, nil, nil, nil, nil, nil, nil
}
