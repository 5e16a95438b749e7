package gateway_test

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/fractal-grid/fractal"
	"github.com/fractal-grid/fractal/gateway"
	"github.com/fractal-grid/fractal/jetstream"
)

// BenchmarkEvents holds 100 event streams open on 100 queued jobs and
// reports what one open stream costs the gateway in CPU while nothing
// happens, and how long a progress change written to the store (as another
// replica's dispatcher writes it) takes to reach the stream's client. Each
// iteration changes the progress of all 100 jobs once.
//
//	go test ./gateway -run '^$' -bench Events -benchtime 20x
func BenchmarkEvents(b *testing.B) {
	const streams = 100
	ctx := context.Background()
	gw, key := benchGateway(b, jetstream.DefaultConfig(b.TempDir()))
	if err := gw.Serve("127.0.0.1:0"); err != nil {
		b.Fatal(err)
	}
	url := "http://" + gw.Addr()
	ids := make([]string, streams)
	got := make([]chan int, streams)
	for i := range streams {
		ids[i] = createJob(b, url, key, i)
		got[i] = make(chan int, 16)
		go readEvents(b, url, key, ids[i], got[i])
		<-got[i] // the first event: the stream is open
	}

	before := cpuTime()
	idle := 2 * time.Second
	time.Sleep(idle)
	perStream := float64(cpuTime()-before) / float64(time.Microsecond) / idle.Seconds() / streams

	var total time.Duration
	b.ResetTimer()
	for n := range b.N {
		p := 1 + n%98
		for i, id := range ids {
			start := time.Now()
			if _, err := gw.Jobs.Update(ctx, id, func(j *fractal.Job) error {
				j.Status, j.Progress = fractal.JobInProgress, p
				return nil
			}); err != nil {
				b.Fatal(err)
			}
			for q := range got[i] {
				if q == p {
					break
				}
			}
			total += time.Since(start)
		}
	}
	b.StopTimer()
	b.ReportMetric(float64(total.Microseconds())/1e3/float64(b.N*streams), "ms/progress-event")
	b.ReportMetric(perStream, "cpu-µs/stream/s")
}

func createJob(b *testing.B, url, key string, i int) string {
	body := fmt.Sprintf(`{"prompt": "a lantern %d", "size": "64x64", "frames": 4, "steps": 6}`, i)
	req, _ := http.NewRequest("POST", url+"/v1/videos", strings.NewReader(body))
	req.Header.Set("Authorization", "Bearer "+key)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		b.Fatal(err)
	}
	defer resp.Body.Close()
	var v gateway.Video
	if err := json.NewDecoder(resp.Body).Decode(&v); err != nil || resp.StatusCode != http.StatusAccepted {
		b.Fatalf("create: %d %v", resp.StatusCode, err)
	}
	return v.ID
}

// readEvents sends the progress of every event of the job's stream.
func readEvents(b *testing.B, url, key, id string, out chan<- int) {
	req, _ := http.NewRequest("GET", url+"/v1/videos/"+id+"/events", nil)
	req.Header.Set("Authorization", "Bearer "+key)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return
	}
	defer resp.Body.Close()
	sc := bufio.NewScanner(resp.Body)
	for sc.Scan() {
		if d, ok := strings.CutPrefix(sc.Text(), "data: "); ok {
			var v gateway.Video
			if json.Unmarshal([]byte(d), &v) == nil {
				out <- v.Progress
			}
		}
	}
}

// cpuTime is the CPU time this process has used, user and system.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
