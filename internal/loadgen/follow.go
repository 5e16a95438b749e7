package loadgen

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"time"
)

// maxReasons bounds the distinct failure reasons kept in a report.
const maxReasons = 10

// video is the part of a job the follower reads.
type video struct {
	ID     string `json:"id"`
	Status string `json:"status"`
	Error  string `json:"error"`
}

// follow polls the accepted jobs through the list endpoint (100 a page,
// newest first) until each ended or the wait ran out.
func (r *runner) follow(ctx context.Context) error {
	pending := map[string]bool{}
	for _, id := range r.accepted {
		pending[id] = true
	}
	start := time.Now()
	deadline := start.Add(r.cfg.Wait)
	reasons := map[string]bool{}
	for len(pending) > 0 && ctx.Err() == nil {
		seen, wait, err := r.scan(ctx, pending)
		if err != nil {
			return err
		}
		for id, v := range seen {
			if !pending[id] {
				continue
			}
			switch v.Status {
			case "completed":
				r.rep.Completed++
			case "failed":
				r.rep.Failed++
				if v.Error == "" {
					r.rep.FailedNoReason++
				} else if !reasons[v.Error] && len(reasons) < maxReasons {
					reasons[v.Error] = true
					r.rep.FailReasons = append(r.rep.FailReasons, v.Error)
				}
			case "cancelled":
				r.rep.Cancelled++
			default:
				continue
			}
			delete(pending, id)
		}
		if len(pending) == 0 || time.Now().After(deadline) {
			break
		}
		sleep(ctx, max(wait, 250*time.Millisecond))
	}
	r.rep.DrainSec = time.Since(start).Seconds()
	r.rep.Unfinished = len(pending)
	return r.lost(ctx, pending)
}

// scan lists the key's jobs down to the oldest pending one. It returns the
// listed jobs by id and, when the gateway asked to slow down, how long.
func (r *runner) scan(ctx context.Context, pending map[string]bool) (map[string]video, time.Duration, error) {
	oldest := ""
	for id := range pending {
		if oldest == "" || id < oldest {
			oldest = id
		}
	}
	seen := map[string]video{}
	after := ""
	for page := 0; page < 100_000; page++ {
		q := url.Values{"limit": {"100"}}
		if after != "" {
			q.Set("after", after)
		}
		var list struct {
			Data []video `json:"data"`
			Next string  `json:"next"`
		}
		status, retry, err := r.get(ctx, "/v1/videos?"+q.Encode(), &list)
		if err != nil {
			return nil, 0, err
		}
		if status == http.StatusTooManyRequests {
			return seen, retry, nil
		}
		if status != http.StatusOK {
			return nil, 0, fmt.Errorf("list videos: status %d", status)
		}
		for _, v := range list.Data {
			seen[v.ID] = v
		}
		if list.Next == "" || len(list.Data) == 0 || slices.ContainsFunc(list.Data, func(v video) bool { return v.ID <= oldest }) {
			return seen, 0, nil
		}
		after = list.Next
	}
	return seen, 0, nil
}

// lost counts pending jobs the gateway no longer knows.
func (r *runner) lost(ctx context.Context, pending map[string]bool) error {
	for id := range pending {
		for {
			var v video
			status, retry, err := r.get(ctx, "/v1/videos/"+id, &v)
			if err != nil {
				return err
			}
			if status == http.StatusTooManyRequests {
				sleep(ctx, retry)
				continue
			}
			if status == http.StatusNotFound {
				r.rep.Lost++
				r.rep.Unfinished--
			}
			break
		}
	}
	return nil
}

// get fetches path as JSON into out. It returns the status and, for a 429,
// the Retry-After.
func (r *runner) get(ctx context.Context, path string, out any) (int, time.Duration, error) {
	ctx, cancel := context.WithTimeout(ctx, r.cfg.Timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, r.cfg.Target+path, nil)
	if err != nil {
		return 0, 0, err
	}
	req.Header.Set("Authorization", "Bearer "+r.cfg.Key)
	resp, err := r.client.Do(req)
	if err != nil {
		return 0, 0, fmt.Errorf("GET %s: %w", path, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode == http.StatusTooManyRequests {
		io.Copy(io.Discard, resp.Body)
		n, _ := strconv.Atoi(resp.Header.Get("Retry-After"))
		return resp.StatusCode, min(time.Duration(max(n, 1))*time.Second, 5*time.Second), nil
	}
	if resp.StatusCode == http.StatusOK {
		if err := json.NewDecoder(resp.Body).Decode(out); err != nil {
			return 0, 0, fmt.Errorf("GET %s: %w", path, err)
		}
	}
	return resp.StatusCode, 0, nil
}

func sleep(ctx context.Context, d time.Duration) {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
	case <-t.C:
	}
}
