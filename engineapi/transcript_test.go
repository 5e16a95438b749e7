package engineapi_test

import (
	"bytes"
	"errors"
	"flag"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"testing"

	"github.com/fractal-grid/fractal/engineapi"
	"github.com/fractal-grid/fractal/refengine"
)

var update = flag.Bool("update", false, "rewrite the golden transcripts in testdata")

// digestRE and versionRE match digests and the model's version, which the
// transcripts redact: they pin the wire format, while the model's own tests
// pin its output and version.
var (
	digestRE  = regexp.MustCompile(`sha256:[0-9a-f]{64}`)
	versionRE = regexp.MustCompile(`"version":"[^"]*"`)
)

// transcript renders a reply as its JSON lines (digests redacted), each
// payload as "<N bytes>", so the wire format is pinned in a readable file.
func transcript(t *testing.T, resp *http.Response) []byte {
	t.Helper()
	defer resp.Body.Close()
	var out bytes.Buffer
	fmt.Fprintf(&out, "HTTP %d %s\n", resp.StatusCode, resp.Header.Get("Content-Type"))
	rd := engineapi.NewReader(resp.Body, 1<<30)
	for {
		rec, err := rd.Next()
		if errors.Is(err, engineapi.ErrNoRecord) {
			return out.Bytes()
		}
		if err != nil {
			t.Fatal(err)
		}
		line := digestRE.ReplaceAll(rec.Line, []byte("sha256:<digest>"))
		out.Write(versionRE.ReplaceAll(line, []byte(`"version":"<version>"`)))
		out.WriteByte('\n')
		if len(rec.Payload) > 0 {
			fmt.Fprintf(&out, "<%d bytes>\n", len(rec.Payload))
		}
	}
}

// TestTranscripts pins what the server sends for each call. Run with
// -update after a deliberate change to the protocol or the model.
func TestTranscripts(t *testing.T) {
	hs := serve(t, refengine.New(), engineapi.DefaultConfig())
	tests := []struct {
		name, path string
		body       []byte
	}{
		{"generate", "/v1/generate", record(t, engineapi.GenerateRequest{Type: engineapi.TypeGenerate, Spec: smallSpec, KeepStates: true}, nil)},
		{"step0", "/v1/step", record(t, engineapi.StepRequest{Type: engineapi.TypeStep, Spec: smallSpec}, nil)},
		{"invalid", "/v1/generate", []byte(`{"type":"generate","spec":{"prompt":"x","frames":1,"width":64,"height":64,"fps":8,"steps":0}}`)},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got := transcript(t, post(t, hs, tc.path, tc.body))
			golden := filepath.Join("testdata", tc.name+".golden")
			if *update {
				if err := os.WriteFile(golden, got, 0o644); err != nil {
					t.Fatal(err)
				}
			}
			want, err := os.ReadFile(golden)
			if err != nil {
				t.Fatalf("%v (run with -update to create it)", err)
			}
			if !bytes.Equal(got, want) {
				t.Errorf("transcript differs from %s:\n got:\n%s\nwant:\n%s", golden, got, want)
			}
		})
	}
}
