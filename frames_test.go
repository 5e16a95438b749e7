package fractal_test

import (
	"errors"
	"testing"

	"github.com/fractal-grid/fractal"
)

func testFrames() *fractal.Frames {
	f := fractal.NewFrames(4, 64, 64, 8)
	for i := range f.Pix {
		f.Pix[i] = byte(i * 7)
	}
	return f
}

func TestFramesDigest(t *testing.T) {
	f := testFrames()
	if err := f.Validate(); err != nil {
		t.Fatal(err)
	}
	d := f.Digest()
	if got := d.String(); len(got) != len("sha256:")+64 || got[:7] != "sha256:" {
		t.Errorf("digest text %q, want sha256:<64 hex>", got)
	}
	back, err := fractal.ParseDigest(d.String())
	if err != nil || back != d {
		t.Errorf("ParseDigest round trip: got %v, %v", back, err)
	}
	g := testFrames()
	g.FPS = 9
	if g.Digest() == d {
		t.Error("fps is not covered by the digest")
	}
	g = testFrames()
	g.Pix[len(g.Pix)-1] ^= 1
	if g.Digest() == d {
		t.Error("last byte is not covered by the digest")
	}
	// Same bytes, other shape.
	g = testFrames()
	g.Count, g.Width = 8, 32
	if g.Digest() == d {
		t.Error("shape is not covered by the digest")
	}
	// DigestHash fed the pixels in uneven pieces sums to the same digest.
	h := f.DigestHash()
	for rest, n := f.Pix, 1; len(rest) > 0; n = n*3 + 1 {
		k := min(n, len(rest))
		h.Write(rest[:k])
		rest = rest[k:]
	}
	var got fractal.Digest
	h.Sum(got[:0])
	if got != d {
		t.Errorf("DigestHash over pieces gives %s, Digest %s", got, d)
	}
}

func TestVerifyFrame(t *testing.T) {
	f := testFrames()
	tree := f.FrameTree()
	for i := 0; i < f.Count; i++ {
		p, _ := tree.Proof(i)
		if err := fractal.VerifyFrame(*f, tree.Root(), i, f.Frame(i), p); err != nil {
			t.Errorf("frame %d: %v", i, err)
		}
		bad := append([]byte(nil), f.Frame(i)...)
		bad[3] ^= 0x80
		if err := fractal.VerifyFrame(*f, tree.Root(), i, bad, p); !errors.Is(err, fractal.ErrMismatch) {
			t.Errorf("frame %d tampered: got %v, want ErrMismatch", i, err)
		}
	}
	p, _ := tree.Proof(0)
	if err := fractal.VerifyFrame(*f, tree.Root(), 1, f.Frame(1), p); !errors.Is(err, fractal.ErrMismatch) {
		t.Errorf("proof of another frame: got %v, want ErrMismatch", err)
	}
}

func TestParseDigestRejects(t *testing.T) {
	for _, s := range []string{"", "sha256:", "sha256:zz" + string(make([]byte, 62)), "md5:00"} {
		if _, err := fractal.ParseDigest(s); !errors.Is(err, fractal.ErrInvalid) {
			t.Errorf("ParseDigest(%q) = %v, want ErrInvalid", s, err)
		}
	}
}

func TestFramesValidate(t *testing.T) {
	f := testFrames()
	f.Pix = f.Pix[:len(f.Pix)-1]
	if err := f.Validate(); !errors.Is(err, fractal.ErrInvalid) {
		t.Errorf("short pixels: got %v, want ErrInvalid", err)
	}
}
