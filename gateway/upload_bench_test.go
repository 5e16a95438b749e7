package gateway_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"mime/multipart"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/fractal-grid/fractal/internal/loadgen"
	"github.com/fractal-grid/fractal/jetstream"
)

// BenchmarkCreateMultipartVsJSON measures the latency of one create sent
// as multipart/form-data (as the OpenAI SDKs send it) and of the same
// create sent as JSON, alternating them in one run so both see the same
// store, and reports each and their ratio.
//
//	go test ./gateway -run '^$' -bench MultipartVsJSON -benchtime 2000x
func BenchmarkCreateMultipartVsJSON(b *testing.B) {
	gw, key := benchGateway(b, jetstream.DefaultConfig(b.TempDir()))
	h := gw.Handler()
	jsonBody := `{"prompt": "a red ball bouncing over the ocean at night", "size": "64x64", "seconds": "0.5", "steps": 6}`
	var form bytes.Buffer
	mw := multipart.NewWriter(&form)
	for _, f := range [][2]string{{"prompt", "a red ball bouncing over the ocean at night"}, {"size", "64x64"}, {"seconds", "0.5"}, {"steps", "6"}} {
		mw.WriteField(f[0], f[1])
	}
	mw.Close()
	create := func(body, ctype string) time.Duration {
		req := httptest.NewRequest(http.MethodPost, "/v1/videos", strings.NewReader(body))
		req.Header.Set("Authorization", "Bearer "+key)
		req.Header.Set("Content-Type", ctype)
		rec := httptest.NewRecorder()
		start := time.Now()
		h.ServeHTTP(rec, req)
		took := time.Since(start)
		if rec.Code != http.StatusAccepted {
			b.Fatalf("%s create: %d %s", ctype, rec.Code, rec.Body)
		}
		return took
	}
	var inJSON, inForm time.Duration
	b.ResetTimer()
	for i := range b.N {
		if i%2 == 0 { // alternate which goes first
			inJSON += create(jsonBody, "application/json")
			inForm += create(form.String(), mw.FormDataContentType())
		} else {
			inForm += create(form.String(), mw.FormDataContentType())
			inJSON += create(jsonBody, "application/json")
		}
	}
	b.ReportMetric(float64(inJSON.Nanoseconds())/float64(b.N), "json-ns/create")
	b.ReportMetric(float64(inForm.Nanoseconds())/float64(b.N), "multipart-ns/create")
	b.ReportMetric(float64(inForm)/float64(inJSON), "multipart/json")
}

// Figures of the upload test: 100 clients each send a 5 MiB
// input_reference part at once.
const (
	uploadClients = 100
	uploadBytes   = 5 << 20
	// maxUploadGrowth bounds the gateway's RSS growth during the uploads:
	// buffering them would take 100 × 5 MiB. The race detector's shadow
	// memory triples what the streaming path itself holds.
	maxUploadGrowth = 64 << 20 * raceFactor
)

// TestUploadMemoryBounded sends 100 uploads of 5 MiB input_reference parts
// at once: each is refused with a 400 naming input_reference, and the
// process's resident memory grows by far less than the uploads.
func TestUploadMemoryBounded(t *testing.T) {
	base, peak := uploadRSS(t)
	t.Logf("RSS %.1f MiB before, peak %.1f MiB during %d uploads of %d MiB", mib(base), mib(peak), uploadClients, uploadBytes>>20)
	if peak-base > maxUploadGrowth {
		t.Errorf("RSS grew by %.1f MiB, want at most %.0f MiB: uploads are buffered", mib(peak-base), mib(maxUploadGrowth))
	}
}

// BenchmarkUploadRSS reports the peak RSS of the process (gateway and
// clients) while 100 clients upload 5 MiB input_reference parts at once.
//
//	go test ./gateway -run '^$' -bench UploadRSS -benchtime 1x
func BenchmarkUploadRSS(b *testing.B) {
	var peak, growth int64
	for range b.N {
		base, p := uploadRSS(b)
		peak, growth = max(peak, p), max(growth, p-base)
	}
	b.ReportMetric(mib(peak), "peak-RSS-MiB")
	b.ReportMetric(mib(growth), "RSS-growth-MiB")
}

func mib(n int64) float64 { return float64(n) / (1 << 20) }

// uploadRSS runs a gateway on loopback and uploadClients clients that each
// stream a create with an uploadBytes input_reference part, and returns the
// process's RSS before and its peak during the uploads (sampled every
// 5 ms). Every upload must be refused with a 400 naming input_reference.
func uploadRSS(tb testing.TB) (before, peak int64) {
	e := start(tb)
	_, key, err := e.gw.Keys().Create(context.Background(), "uploads", 1e6, 10*uploadClients, 8)
	if err != nil {
		tb.Fatal(err)
	}
	_, before, err = loadgen.ReadRSS(os.Getpid())
	if err != nil {
		tb.Fatal(err)
	}
	ctx, stop := context.WithCancel(context.Background())
	sampled := make(chan int64)
	go func() {
		top := before
		t := time.NewTicker(5 * time.Millisecond)
		defer t.Stop()
		for {
			if _, rss, err := loadgen.ReadRSS(os.Getpid()); err == nil {
				top = max(top, rss)
			}
			select {
			case <-ctx.Done():
				sampled <- top
				return
			case <-t.C:
			}
		}
	}()
	client := &http.Client{Transport: &http.Transport{DisableKeepAlives: true, MaxConnsPerHost: 0}, Timeout: 60 * time.Second}
	errs := make(chan string, uploadClients)
	var wg sync.WaitGroup
	for range uploadClients {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if msg := upload(client, e.url, key); msg != "" {
				errs <- msg
			}
		}()
	}
	wg.Wait()
	stop()
	peak = <-sampled
	close(errs)
	for msg := range errs {
		tb.Error(msg)
	}
	return before, peak
}

// upload streams one create with a large input_reference part, writing it
// as the transport reads it, and returns what was wrong with the answer.
func upload(client *http.Client, url, key string) string {
	pr, pw := io.Pipe()
	mw := multipart.NewWriter(pw)
	go func() {
		mw.WriteField("prompt", "a cat in a hat")
		fw, err := mw.CreateFormFile("input_reference", "reference.png")
		if err == nil {
			_, err = io.CopyN(fw, pattern{}, uploadBytes)
		}
		if err == nil {
			err = mw.Close()
		}
		pw.CloseWithError(err) // the transport stops reading once answered
	}()
	req, _ := http.NewRequest(http.MethodPost, url+"/v1/videos", pr)
	req.Header.Set("Authorization", "Bearer "+key)
	req.Header.Set("Content-Type", mw.FormDataContentType())
	resp, err := client.Do(req)
	if err != nil {
		return "upload: " + err.Error()
	}
	defer resp.Body.Close()
	var reply struct{ Error struct{ Param string } }
	body, _ := io.ReadAll(resp.Body)
	json.Unmarshal(body, &reply)
	if resp.StatusCode != http.StatusBadRequest || reply.Error.Param != "input_reference" {
		return "upload: got " + resp.Status + " " + string(body) + ", want 400 naming input_reference"
	}
	return ""
}

// pattern reads as an endless run of bytes, allocating nothing. It copies
// from one block rather than writing byte by byte, which the race detector
// would check one byte at a time: 100 clients' 500 MiB then took seconds of
// CPU on their own.
type pattern struct{}

var patternBlock = func() []byte {
	b := make([]byte, 32<<10)
	for i := range b {
		b[i] = byte(i)
	}
	return b
}()

func (pattern) Read(p []byte) (int, error) {
	n := 0
	for n < len(p) {
		n += copy(p[n:], patternBlock)
	}
	return n, nil
}
