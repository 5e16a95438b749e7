package framesfile

import (
	"bytes"
	"math/rand/v2"
	"testing"
)

// TestSubFilterFormat pins the filter byte for byte against its definition
// in the file format: each byte minus the same channel of the pixel to its
// left, the first pixel as it is. Readers in other languages depend on it.
func TestSubFilterFormat(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	for _, width := range []int{1, 2, 3, 17, 256} {
		row := make([]byte, width*3)
		for i := range row {
			row[i] = byte(r.Uint32())
		}
		want := make([]byte, len(row))
		for i := range row {
			want[i] = row[i]
			if i >= 3 {
				want[i] = row[i] - row[i-3]
			}
		}
		got := make([]byte, len(row))
		subFilter(got, row)
		if !bytes.Equal(got, want) {
			t.Fatalf("width %d: filtered %x, want %x", width, got, want)
		}
		unSubFilter(got)
		if !bytes.Equal(got, row) {
			t.Fatalf("width %d: unfiltered %x, want the row %x", width, got, row)
		}
	}
}
