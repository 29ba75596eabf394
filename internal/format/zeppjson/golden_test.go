package zeppjson

import (
	"bufio"
	"bytes"
	"crypto/sha256"
	"flag"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

var updateGolden = flag.Bool("update-golden", false, "rewrite testdata/decode-golden.txt from the current decoder")

// goldenFile holds, for each fixture and a fixed set of mutations of it,
// what the decoder returned when its fast paths were added: the error text
// or a digest of the workout. It pins the decoder's output across
// optimisations: a change here is a change in behaviour.
const goldenFile = "testdata/decode-golden.txt"

// goldenMutations is how many mutated variants of each fixture are checked.
const goldenMutations = 250

// mutate returns a deterministic variant of a fixture's detail: digits,
// signs, separators and dots changed, inserted or removed at random places,
// so that both the fast paths and the general parser's errors are reached.
func mutate(detail []byte, seed uint64) []byte {
	r := rand.New(rand.NewPCG(seed, 7))
	b := append([]byte(nil), detail...)
	const alphabet = "0123456789-.,;e+ "
	for range 1 + r.IntN(4) {
		// aim inside the stream strings most of the time
		i := r.IntN(len(b))
		for tries := 0; tries < 20 && !strings.ContainsRune("0123456789,;.-", rune(b[i])); tries++ {
			i = r.IntN(len(b))
		}
		switch r.IntN(6) {
		case 0, 1: // replace
			b[i] = alphabet[r.IntN(len(alphabet))]
		case 2: // insert
			c := alphabet[r.IntN(len(alphabet))]
			b = append(b[:i], append([]byte{c}, b[i:]...)...)
		case 3: // delete
			b = append(b[:i], b[i+1:]...)
		case 4: // a long number
			b = append(b[:i], append([]byte("12345678901234567890"), b[i:]...)...)
		case 5: // a huge time delta or value
			b = append(b[:i], append([]byte("999999"), b[i:]...)...)
		}
	}
	return b
}

// decodeDigest describes Decode's result in one line.
func decodeDigest(summary, detail []byte) string {
	w, err := Decode(summary, detail)
	if err != nil {
		return "error " + err.Error()
	}
	h := sha256.Sum256(fmt.Appendf(nil, "%+v", *w))
	return fmt.Sprintf("ok %x samples=%d notes=%d", h[:12], len(w.Samples), len(w.Notes))
}

func goldenLines(t *testing.T) []string {
	var lines []string
	for _, name := range fixtureNames {
		summary, detail := readFixture(t, name)
		lines = append(lines, name+" original "+decodeDigest(summary, detail))
		lines = append(lines, name+" no-summary "+decodeDigest(nil, detail))
		for i := range goldenMutations {
			m := mutate(detail, uint64(i))
			lines = append(lines, fmt.Sprintf("%s mutation-%d %s", name, i, strings.ReplaceAll(decodeDigest(summary, m), "\n", `\n`)))
		}
	}
	return lines
}

// TestDecodeGolden compares the decoder with the outputs recorded in
// goldenFile (go test -run TestDecodeGolden -update-golden rewrites it).
func TestDecodeGolden(t *testing.T) {
	got := goldenLines(t)
	if *updateGolden {
		if err := os.WriteFile(goldenFile, []byte(strings.Join(got, "\n")+"\n"), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	f, err := os.ReadFile(filepath.FromSlash(goldenFile))
	if err != nil {
		t.Fatal(err)
	}
	var want []string
	for sc := bufio.NewScanner(bytes.NewReader(f)); sc.Scan(); {
		want = append(want, sc.Text())
	}
	if len(want) != len(got) {
		t.Fatalf("%s has %d lines, the test makes %d", goldenFile, len(want), len(got))
	}
	errs, oks := 0, 0
	for i := range got {
		if got[i] != want[i] {
			t.Errorf("line %d:\n got %s\nwant %s", i+1, got[i], want[i])
		}
		if strings.Contains(want[i], " error ") {
			errs++
		} else {
			oks++
		}
	}
	// the mutations must exercise both outcomes, or the test proves little
	if errs < 50 || oks < 50 {
		t.Errorf("golden set has %d errors and %d successes; want both well represented", errs, oks)
	}
}
