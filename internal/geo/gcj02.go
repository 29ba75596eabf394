// Package geo converts coordinates between WGS-84, which GPS, FIT, GPX and
// Strava use, and GCJ-02, the obfuscated datum that maps and apps in
// mainland China are required to use. Zepp accounts in mainland China (and
// Mi Fit tracks recorded with the "gaode" location provider) store
// positions in GCJ-02, which puts a track 300–700 m off the roads on Strava.
//
// The GCJ-02 offset is the well-known public formula first published in
// the leaked "Converter.java" of the Chinese mapping SDKs and since then in
// many open projects, among them googollee/eviltransform (MIT; its
// go/transform.go and the test points reused in this package's tests) and
// wandergis/coordtransform (MIT; README examples). The code here is written
// from that formula, not copied: a polynomial-plus-sine offset in metres on
// the Krasovsky 1940 ellipsoid (a = 6 378 245 m, e² = 0.006693421622965943),
// applied only inside a rough bounding box of China. The inverse has no
// closed form; GCJToWGS iterates the forward formula to a fixed point.
package geo

import "math"

// Krasovsky 1940 ellipsoid, the one the GCJ-02 formula is defined on.
const (
	semiMajor = 6378245.0
	eccSq     = 0.00669342162296594323
)

// The rough bounding box of China that every published implementation
// uses: outside it GCJ-02 equals WGS-84.
const (
	minLon, maxLon = 72.004, 137.8347
	minLat, maxLat = 0.8293, 55.8271
)

// InChina reports whether a point lies inside the rough bounding box in
// which the GCJ-02 offset applies. The box also covers parts of the
// neighbouring countries (and Taiwan, Hong Kong and Macau, where the datum
// is not mandated); it is the check GCJ-02 software itself makes, so a
// GCJ-02 track recorded inside the box was shifted and one outside was not.
func InChina(lat, lon float64) bool {
	return lon >= minLon && lon <= maxLon && lat >= minLat && lat <= maxLat
}

// WGSToGCJ converts a WGS-84 position to GCJ-02. Points outside China
// (InChina false) are returned unchanged, as GCJ-02 software does.
func WGSToGCJ(lat, lon float64) (gcjLat, gcjLon float64) {
	if !InChina(lat, lon) {
		return lat, lon
	}
	dLat, dLon := offset(lat, lon)
	return lat + dLat, lon + dLon
}

// GCJToWGS converts a GCJ-02 position back to WGS-84. Points outside China
// are returned unchanged. The result is accurate to well under a
// millimetre with respect to WGSToGCJ: the forward offset varies slowly
// (its Jacobian is close to the identity), so the fixed-point iteration
// w ← w + (g − WGSToGCJ(w)) gains about three digits per step.
func GCJToWGS(lat, lon float64) (wgsLat, wgsLon float64) {
	if !InChina(lat, lon) {
		return lat, lon
	}
	const tolerance = 1e-10 // degrees, about 0.01 mm
	wLat, wLon := lat, lon
	for range 20 {
		dLat, dLon := offset(wLat, wLon)
		eLat, eLon := lat-(wLat+dLat), lon-(wLon+dLon)
		wLat, wLon = wLat+eLat, wLon+eLon
		if math.Abs(eLat) < tolerance && math.Abs(eLon) < tolerance {
			break
		}
	}
	return wLat, wLon
}

// offset is the GCJ-02 shift in degrees at a WGS-84 position.
func offset(lat, lon float64) (dLat, dLon float64) {
	x, y := lon-105, lat-35
	// The shift in metres-ish units, as the formula defines it.
	mLat, mLon := shift(x, y)
	rad := lat * math.Pi / 180
	s := math.Sin(rad)
	w := 1 - eccSq*s*s
	sw := math.Sqrt(w)
	// Divide by the meridian and parallel radii of curvature to get degrees.
	dLat = mLat * 180 / (semiMajor * (1 - eccSq) / (w * sw) * math.Pi)
	dLon = mLon * 180 / (semiMajor / sw * math.Cos(rad) * math.Pi)
	return dLat, dLon
}

// shift is the formula's polynomial-plus-sine term in x = lon−105 and
// y = lat−35.
func shift(x, y float64) (lat, lon float64) {
	const p = math.Pi
	common := (20*math.Sin(6*x*p) + 20*math.Sin(2*x*p)) * 2 / 3
	sqx := math.Sqrt(math.Abs(x))

	lat = -100 + 2*x + 3*y + 0.2*y*y + 0.1*x*y + 0.2*sqx + common
	lat += (20*math.Sin(y*p) + 40*math.Sin(y/3*p)) * 2 / 3
	lat += (160*math.Sin(y/12*p) + 320*math.Sin(y*p/30)) * 2 / 3

	lon = 300 + x + 2*y + 0.1*x*x + 0.1*x*y + 0.1*sqx + common
	lon += (20*math.Sin(x*p) + 40*math.Sin(x/3*p)) * 2 / 3
	lon += (150*math.Sin(x/12*p) + 300*math.Sin(x/30*p)) * 2 / 3
	return lat, lon
}
