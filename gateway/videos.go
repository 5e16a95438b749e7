package gateway

import (
	"crypto/rand"
	"encoding/binary"
	"fmt"
	"time"

	"github.com/fractal-grid/fractal"
	"github.com/fractal-grid/fractal/refengine"
)

// Video is a job as the API shows it: the fields of the OpenAI SDKs'
// Video type, then Fractal's own.
type Video struct {
	ID                 string      `json:"id"`
	Object             string      `json:"object"`
	Status             string      `json:"status"` // queued, in_progress, completed or failed (a cancelled job: failed, error code "cancelled")
	Progress           int         `json:"progress"`
	Model              string      `json:"model"`
	Seconds            string      `json:"seconds"`
	Size               string      `json:"size"`
	CreatedAt          int64       `json:"created_at"`
	CompletedAt        *int64      `json:"completed_at"`
	ExpiresAt          *int64      `json:"expires_at"`
	Error              *VideoError `json:"error"`
	RemixedFromVideoID *string     `json:"remixed_from_video_id"`

	Prompt     string            `json:"prompt"`
	Seed       uint64            `json:"seed"`
	Frames     int               `json:"frames"`
	FPS        int               `json:"fps"`
	Steps      int               `json:"steps"`
	Digest     string            `json:"digest,omitempty"`
	Miner      *MinerInfo        `json:"miner,omitempty"`
	Attempts   int               `json:"attempts"`
	Timings    *TimingsMs        `json:"timings,omitempty"`
	WebhookURL string            `json:"webhook_url,omitempty"`
	Links      map[string]string `json:"links"`
}

// VideoError says why a video failed or was cancelled.
type VideoError struct {
	Code    string `json:"code"`
	Message string `json:"message"`
}

// MinerInfo names the miner that made a video.
type MinerInfo struct {
	UID    uint16 `json:"uid"`
	Hotkey string `json:"hotkey"`
}

// TimingsMs are a job's phases in milliseconds.
type TimingsMs struct {
	Queue         int64 `json:"queue_ms"`
	Accept        int64 `json:"accept_ms"`
	FirstProgress int64 `json:"first_progress_ms"`
	Generate      int64 `json:"generate_ms"`
	Total         int64 `json:"total_ms"`
}

// videoOf renders a job for the API. A completed video's content expires
// the gateway's retention after it completed.
func (g *Gateway) videoOf(j *fractal.Job) Video {
	v := Video{
		ID: j.ID, Object: "video", Status: string(j.Status), Progress: j.Progress, Model: modelOfSpec(j.Spec),
		Seconds: formatSeconds(j.Spec.Frames, j.Spec.FPS), Size: fmt.Sprintf("%dx%d", j.Spec.Width, j.Spec.Height),
		CreatedAt: j.Created.Unix(), Error: videoError(j),
		Prompt: j.Spec.Prompt, Seed: j.Spec.Seed, Frames: j.Spec.Frames, FPS: j.Spec.FPS, Steps: j.Spec.Steps,
		Attempts: len(j.Attempts), WebhookURL: j.WebhookURL,
		Links: map[string]string{
			"self":   "/v1/videos/" + j.ID,
			"events": "/v1/videos/" + j.ID + "/events",
		},
	}
	if j.Status == fractal.JobCancelled {
		v.Status = string(fractal.JobFailed)
	}
	if !j.Finished.IsZero() {
		at := j.Finished.Unix()
		v.CompletedAt = &at
	}
	if at, ok := g.expiresAt(j); ok {
		unix := at.Unix()
		v.ExpiresAt = &unix
	}
	if j.RemixedFrom != "" {
		from := j.RemixedFrom
		v.RemixedFromVideoID = &from
	}
	if j.Commitment != nil {
		v.Digest = j.Commitment.FramesDigest.String()
	}
	if j.Miner != nil {
		v.Miner = &MinerInfo{UID: j.Miner.UID, Hotkey: j.Miner.Hotkey}
	}
	if j.Status == fractal.JobCompleted {
		v.Links["content"] = "/v1/videos/" + j.ID + "/content"
		t := j.Timings
		v.Timings = &TimingsMs{Queue: t.Queue.Milliseconds(), Accept: t.Accept.Milliseconds(), FirstProgress: t.FirstProgress.Milliseconds(),
			Generate: t.Generate.Milliseconds(), Total: t.Total.Milliseconds()}
	}
	return v
}

// modelOfSpec names the model of a job: its spec's profile, "id@version".
// A job stored before specs named their profile was the reference engine's.
func modelOfSpec(s fractal.Spec) string {
	if s.Profile == "" {
		return refengine.ProfileID
	}
	return s.Profile
}

// videoError is the error of a failed or cancelled job, nil otherwise.
func videoError(j *fractal.Job) *VideoError {
	switch j.Status {
	case fractal.JobFailed:
		return &VideoError{Code: "failed", Message: j.Error}
	case fractal.JobCancelled:
		msg := j.Error
		if msg == "" {
			msg = "the video was cancelled"
		}
		return &VideoError{Code: "cancelled", Message: msg}
	}
	return nil
}

// newJobID returns a time-ordered id: newer ids sort after older ones.
func newJobID(now time.Time) string {
	return fmt.Sprintf("vid_%011x%s", now.UnixMilli(), randomToken(8))
}

// randomSeed draws a seed for a request that names none.
func randomSeed() uint64 {
	var b [8]byte
	if _, err := rand.Read(b[:]); err != nil {
		panic("crypto/rand failed: " + err.Error())
	}
	return binary.LittleEndian.Uint64(b[:])
}
