package zepp

import "testing"

// BenchmarkGenerateOne measures making one generated workout (the demo's
// emulator makes each twice: its summary at start, its detail on request).
func BenchmarkGenerateOne(b *testing.B) {
	i := 0
	for b.Loop() {
		_ = GenerateOne(1, i%10000)
		i += 37
	}
}
