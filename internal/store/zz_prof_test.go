package store

import "testing"

func BenchmarkSmall(b *testing.B) { benchWorkouts = 1000; benchPerWorkout(b, false) }
