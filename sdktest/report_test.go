package sdktest

import (
	"encoding/json"
	"net/http"
	"slices"
	"strings"
	"testing"

	"github.com/fractal-grid/fractal/localgrid"
)

// report is what testdata/sdk.mjs and testdata/sdk.py print: what each
// call of the SDK returned, as the SDK decoded it.
type report struct {
	SDK          string              `json:"sdk"`
	Models       []string            `json:"models"`
	Model        struct{ ID string } `json:"model"`
	Created      videoObject         `json:"created"`
	Completed    videoObject         `json:"completed"`
	ContentTypes map[string]string   `json:"content_types"`
	Batch        []string            `json:"batch"`
	Pages        struct {
		Desc []page `json:"desc"`
		Asc  []page `json:"asc"`
	} `json:"pages"`
	Remix   videoObject `json:"remix"`
	Deleted struct {
		ID      string `json:"id"`
		Object  string `json:"object"`
		Deleted bool   `json:"deleted"`
	} `json:"deleted"`
	AfterDelete struct {
		Retrieve *apiError `json:"retrieve"`
		Content  *apiError `json:"content"`
	} `json:"after_delete"`
	Errors struct {
		BadSize      *apiError `json:"bad_size"`
		UnknownModel *apiError `json:"unknown_model"`
		WrongKey     *apiError `json:"wrong_key"`
	} `json:"errors"`
}

// videoObject is the SDK's Video with the Fractal fields the checks read.
type videoObject struct {
	ID                 string          `json:"id"`
	Object             string          `json:"object"`
	Status             string          `json:"status"`
	Progress           int             `json:"progress"`
	Model              string          `json:"model"`
	Seconds            string          `json:"seconds"`
	Size               string          `json:"size"`
	CreatedAt          int64           `json:"created_at"`
	CompletedAt        *int64          `json:"completed_at"`
	ExpiresAt          *int64          `json:"expires_at"`
	Error              json.RawMessage `json:"error"`
	RemixedFromVideoID *string         `json:"remixed_from_video_id"`
	Prompt             string          `json:"prompt"`
	Seed               uint64          `json:"seed"`
	Frames             int             `json:"frames"`
	Steps              int             `json:"steps"`
	Digest             string          `json:"digest"`
}

// page is one page of a listing as the SDK's cursor page holds it.
type page struct {
	IDs     []string `json:"ids"`
	FirstID *string  `json:"first_id"`
	LastID  *string  `json:"last_id"`
	HasMore bool     `json:"has_more"`
}

// apiError is what an SDK call threw.
type apiError struct {
	APIError bool    `json:"api_error"`
	Class    string  `json:"class"`
	Status   int     `json:"status"`
	Message  string  `json:"message"`
	Type     *string `json:"type"`
	Param    *string `json:"param"`
	Code     *string `json:"code"`
}

// What the scripts ask for.
const (
	wantSize   = "64x64"
	wantSide   = 64
	wantFrames = 8 // seconds "1" at the model's 8 fps
	wantSteps  = 4
	wantSeed   = 7
	remixText  = "a blue kite over a green sea"
	pageLimit  = 10
)

// checker checks one SDK's report against the grid it ran on.
type checker struct {
	t       *testing.T
	g       *localgrid.Grid
	model   string
	out     string // where the script wrote content
	ffprobe string
}

func (c checker) check(rep report) {
	c.t.Run("models", func(t *testing.T) {
		if !slices.Contains(rep.Models, c.model) || rep.Model.ID != c.model {
			t.Errorf("models: listed %v and retrieved %q, want %s in both", rep.Models, rep.Model.ID, c.model)
		}
	})
	c.t.Run("create", func(t *testing.T) { c.checkCreate(t, rep) })
	c.t.Run("content", func(t *testing.T) { c.checkContent(t, rep) })
	c.t.Run("list", func(t *testing.T) { checkList(t, rep) })
	c.t.Run("remix", func(t *testing.T) { c.checkRemix(t, rep) })
	c.t.Run("delete", func(t *testing.T) { c.checkDelete(t, rep) })
	c.t.Run("errors", func(t *testing.T) { c.checkErrors(t, rep) })
}

func (c checker) checkCreate(t *testing.T, rep report) {
	cr := rep.Created
	if cr.ID == "" || cr.Object != "video" || cr.Status != "queued" || cr.Model != c.model {
		t.Errorf("create answered %+v, want a queued video of %s", cr, c.model)
	}
	v := rep.Completed
	if v.ID != cr.ID || v.Status != "completed" || v.Progress != 100 {
		t.Fatalf("retrieve: got %s %s at %d%%, want %s completed at 100%%", v.ID, v.Status, v.Progress, cr.ID)
	}
	if v.Model != c.model || v.Seconds != "1" || v.Size != wantSize {
		t.Errorf("completed video: got model %q, seconds %q, size %q; want %s, 1, %s", v.Model, v.Seconds, v.Size, c.model, wantSize)
	}
	if v.Seed != wantSeed || v.Frames != wantFrames || v.Steps != wantSteps {
		t.Errorf("the extra fields: got seed %d, frames %d, steps %d; want %d, %d, %d", v.Seed, v.Frames, v.Steps, wantSeed, wantFrames, wantSteps)
	}
	if string(v.Error) != "null" || v.RemixedFromVideoID != nil || v.Digest == "" {
		t.Errorf("completed video: got error %s, remixed_from_video_id %v, digest %q; want null, null and a digest", v.Error, v.RemixedFromVideoID, v.Digest)
	}
	if v.CompletedAt == nil || *v.CompletedAt < v.CreatedAt {
		t.Errorf("completed_at %v, want a time from created_at %d on", v.CompletedAt, v.CreatedAt)
	}
	if v.ExpiresAt == nil || v.CompletedAt == nil || *v.ExpiresAt <= *v.CompletedAt {
		t.Errorf("expires_at %v, want a time after completed_at %v", v.ExpiresAt, v.CompletedAt)
	}
}

func (c checker) checkContent(t *testing.T, rep report) {
	if got := rep.ContentTypes["video"]; got != "video/mp4" {
		t.Errorf("variant video: got content type %q, want video/mp4", got)
	}
	c.checkMP4(t, "video")
	for _, variant := range []string{"thumbnail", "spritesheet"} {
		if got := rep.ContentTypes[variant]; !strings.HasPrefix(got, "image/") {
			t.Errorf("variant %s: got content type %q, want an image", variant, got)
		}
	}
	thumb := c.probe(t, "thumbnail")
	if !thumb.isImage() || thumb.Width != wantSide || thumb.Height != wantSide || thumb.Frames != 1 {
		t.Errorf("thumbnail: got %s, want one decoded %dx%d image", thumb, wantSide, wantSide)
	}
	// A grid of every frame: whole cells, no row left empty.
	sheet := c.probe(t, "spritesheet")
	cols, rows := sheet.Width/wantSide, sheet.Height/wantSide
	if !sheet.isImage() || sheet.Frames != 1 || sheet.Width%wantSide != 0 || sheet.Height%wantSide != 0 ||
		cols*rows < wantFrames || cols*(rows-1) >= wantFrames {
		t.Errorf("spritesheet: got %s, want one image of %d %dx%d cells", sheet, wantFrames, wantSide, wantSide)
	}
}

// checkMP4 checks that the content saved as name is H.264 of the asked
// shape with every frame.
func (c checker) checkMP4(t *testing.T, name string) {
	t.Helper()
	p := c.probe(t, name)
	if p.Codec != "h264" || p.Width != wantSide || p.Height != wantSide || p.Frames != wantFrames {
		t.Errorf("%s: got %s, want h264 %dx%d with %d frames", name, p, wantSide, wantSide, wantFrames)
	}
}

// checkList checks both orders of the listing over the video and the 25
// made for it: every id once, in id order, pages of at most pageLimit with
// has_more, first_id and last_id true to the page.
func checkList(t *testing.T, rep report) {
	if len(rep.Batch) != 25 {
		t.Fatalf("got %d batch videos, want 25", len(rep.Batch))
	}
	asc := append([]string{rep.Created.ID}, rep.Batch...)
	slices.Sort(asc)
	desc := slices.Clone(asc)
	slices.Reverse(desc)
	for _, tt := range []struct {
		order string
		pages []page
		want  []string
	}{{"desc", rep.Pages.Desc, desc}, {"asc", rep.Pages.Asc, asc}} {
		var got []string
		for i, p := range tt.pages {
			got = append(got, p.IDs...)
			last := i == len(tt.pages)-1
			if len(p.IDs) == 0 || len(p.IDs) > pageLimit || p.HasMore == last {
				t.Errorf("%s page %d: got %d videos, has_more %v; want 1 to %d, has_more %v", tt.order, i, len(p.IDs), p.HasMore, pageLimit, !last)
				continue
			}
			if p.FirstID == nil || *p.FirstID != p.IDs[0] || p.LastID == nil || *p.LastID != p.IDs[len(p.IDs)-1] {
				t.Errorf("%s page %d: got first_id %v, last_id %v; want %s, %s", tt.order, i, deref(p.FirstID), deref(p.LastID), p.IDs[0], p.IDs[len(p.IDs)-1])
			}
		}
		if !slices.Equal(got, tt.want) {
			t.Errorf("%s listing: got %v, want %v", tt.order, got, tt.want)
		}
	}
}

func (c checker) checkRemix(t *testing.T, rep report) {
	src, r := rep.Completed, rep.Remix
	if r.Status != "completed" || r.ID == src.ID {
		t.Fatalf("remix: got %s %s, want a new completed video", r.ID, r.Status)
	}
	if r.RemixedFromVideoID == nil || *r.RemixedFromVideoID != src.ID {
		t.Errorf("remix: got remixed_from_video_id %v, want %s", deref(r.RemixedFromVideoID), src.ID)
	}
	if r.Seed != src.Seed || r.Size != src.Size || r.Frames != src.Frames || r.Steps != src.Steps || r.Model != src.Model {
		t.Errorf("remix: got seed %d, size %s, frames %d, steps %d, model %s; want the source's %d, %s, %d, %d, %s",
			r.Seed, r.Size, r.Frames, r.Steps, r.Model, src.Seed, src.Size, src.Frames, src.Steps, src.Model)
	}
	if r.Prompt != remixText || r.Digest == "" || r.Digest == src.Digest {
		t.Errorf("remix: got prompt %q, digest %q; want %q and a digest other than the source's %q", r.Prompt, r.Digest, remixText, src.Digest)
	}
	if got := rep.ContentTypes["remix"]; got != "video/mp4" {
		t.Errorf("remix content: got content type %q, want video/mp4", got)
	}
	c.checkMP4(t, "remix")
}

func (c checker) checkDelete(t *testing.T, rep report) {
	id := rep.Created.ID
	if d := rep.Deleted; d.ID != id || d.Object != "video.deleted" || !d.Deleted {
		t.Errorf("delete: got %+v, want {%s video.deleted true}", d, id)
	}
	for what, e := range map[string]*apiError{"retrieve": rep.AfterDelete.Retrieve, "content": rep.AfterDelete.Content} {
		if e == nil || !e.APIError || e.Status != http.StatusNotFound {
			t.Errorf("%s after delete: got %+v, want an APIError with status 404", what, e)
		}
	}
	// The remix's frames and MP4 are there: the keys checked are the ones
	// the gateway writes, so their absence for the deleted video means
	// something.
	if got := c.blobs(t, rep.Remix.ID); len(got) < 2 {
		t.Errorf("the remix's blobs: got %v, want its frames and its mp4", got)
	}
	if got := c.blobs(t, id); len(got) != 0 {
		t.Errorf("blobs left of the deleted video: %v", got)
	}
}

func (c checker) checkErrors(t *testing.T, rep report) {
	tests := []struct {
		name     string
		got      *apiError
		status   int
		class    string
		param    string
		contains []string
	}{
		{"bad size", rep.Errors.BadSize, http.StatusBadRequest, "BadRequestError", "size", []string{"1280x720", c.model}},
		{"unknown model", rep.Errors.UnknownModel, http.StatusBadRequest, "BadRequestError", "model", []string{"sora-2", c.model}},
		{"wrong key", rep.Errors.WrongKey, http.StatusUnauthorized, "AuthenticationError", "", nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := tt.got
			if e == nil {
				t.Fatal("the call succeeded, want an APIError")
			}
			if !e.APIError || e.Class != tt.class || e.Status != tt.status {
				t.Errorf("got %s (APIError %v) with status %d, want %s with %d", e.Class, e.APIError, e.Status, tt.class, tt.status)
			}
			if e.Message == "" || e.Type == nil || *e.Type == "" {
				t.Errorf("got message %q and type %v, want both", e.Message, deref(e.Type))
			}
			for _, s := range tt.contains {
				if !strings.Contains(e.Message, s) {
					t.Errorf("message %q does not name %q", e.Message, s)
				}
			}
			if tt.param != "" && deref(e.Param) != tt.param {
				t.Errorf("got param %q, want %q", deref(e.Param), tt.param)
			}
		})
	}
}

func deref(s *string) string {
	if s == nil {
		return "<nil>"
	}
	return *s
}
