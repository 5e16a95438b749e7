package chaos_test

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/fractal-grid/fractal/gateway"
)

var client = &http.Client{Timeout: 15 * time.Second}

// getJSON fetches url with the API key into out and returns the status (0
// when the request failed).
func getJSON(url, key string, out any) int {
	req, _ := http.NewRequest(http.MethodGet, url, nil)
	if key != "" {
		req.Header.Set("Authorization", "Bearer "+key)
	}
	resp, err := client.Do(req)
	if err != nil {
		return 0
	}
	defer resp.Body.Close()
	if resp.StatusCode == http.StatusOK {
		json.NewDecoder(resp.Body).Decode(out)
	}
	return resp.StatusCode
}

// submit posts the test spec with seed to a gateway and returns the status
// and the video (when accepted).
func submit(gw, key string, seed uint64) (int, gateway.Video, error) {
	return submitWith(gw, key, seed, "")
}

// submitWith is submit with an Idempotency-Key ("" for none).
func submitWith(gw, key string, seed uint64, idempotencyKey string) (int, gateway.Video, error) {
	s := spec(seed)
	body := fmt.Sprintf(`{"prompt": %q, "seed": %d, "size": "%dx%d", "frames": %d, "fps": %d, "steps": %d}`,
		s.Prompt, s.Seed, s.Width, s.Height, s.Frames, s.FPS, s.Steps)
	req, _ := http.NewRequest(http.MethodPost, gw+"/v1/videos", strings.NewReader(body))
	req.Header.Set("Authorization", "Bearer "+key)
	if idempotencyKey != "" {
		req.Header.Set("Idempotency-Key", idempotencyKey)
	}
	resp, err := client.Do(req)
	if err != nil {
		return 0, gateway.Video{}, err
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	var v gateway.Video
	if resp.StatusCode == http.StatusAccepted || resp.StatusCode == http.StatusOK {
		if err := json.Unmarshal(b, &v); err != nil {
			return resp.StatusCode, v, err
		}
	}
	return resp.StatusCode, v, nil
}

func mustSubmit(t *testing.T, gw, key string, seed uint64) gateway.Video {
	t.Helper()
	status, v, err := submit(gw, key, seed)
	if err != nil || status != http.StatusAccepted {
		t.Fatalf("submit to %s: status %d, %v; want 202", gw, status, err)
	}
	return v
}

// getVideo reads a job from a gateway.
func getVideo(t *testing.T, gw, key, id string) gateway.Video {
	t.Helper()
	var v gateway.Video
	if status := getJSON(gw+"/v1/videos/"+id, key, &v); status != http.StatusOK {
		t.Fatalf("GET %s from %s: status %d", id, gw, status)
	}
	return v
}

// waitEnd polls a job until it is completed, failed or cancelled.
func waitEnd(t *testing.T, gw, key, id string, d time.Duration) gateway.Video {
	t.Helper()
	var v gateway.Video
	waitFor(t, "video "+id+" to end", d, func() bool {
		getJSON(gw+"/v1/videos/"+id, key, &v)
		return v.Status == "completed" || v.Status == "failed" || v.Status == "cancelled"
	})
	return v
}

// events follows a job's server-sent events until the stream ends and
// returns every status it carried, in order.
func events(gw, key, id string) ([]gateway.Video, error) {
	req, _ := http.NewRequest(http.MethodGet, gw+"/v1/videos/"+id+"/events", nil)
	req.Header.Set("Authorization", "Bearer "+key)
	resp, err := (&http.Client{Timeout: 2 * time.Minute}).Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	var out []gateway.Video
	sc := bufio.NewScanner(resp.Body)
	for sc.Scan() {
		if d, ok := strings.CutPrefix(sc.Text(), "data: "); ok {
			var v gateway.Video
			if err := json.Unmarshal([]byte(d), &v); err != nil {
				return out, err
			}
			out = append(out, v)
		}
	}
	return out, sc.Err()
}
