package gateway

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"time"

	"github.com/fractal-grid/fractal"
)

// HeaderSignature carries a webhook's signature: "t=<unix seconds>,v1=<hex
// HMAC-SHA256 of "<t>.<body>">". The HMAC key is the job owner's webhook
// secret, hex(SHA-256("fractal-webhook:" + API key)), which the app computes
// from its own key; the store keeps it but not the key.
const HeaderSignature = "Fractal-Signature"

// WebhookSignature computes the signature header value for body at t.
func WebhookSignature(secret []byte, t time.Time, body []byte) string {
	mac := hmac.New(sha256.New, secret)
	fmt.Fprintf(mac, "%d.", t.Unix())
	mac.Write(body)
	return fmt.Sprintf("t=%d,v1=%s", t.Unix(), hex.EncodeToString(mac.Sum(nil)))
}

// WebhookSecret derives the webhook secret of an API key.
func WebhookSecret(apiKey string) string {
	h := sha256.Sum256([]byte("fractal-webhook:" + apiKey))
	return hex.EncodeToString(h[:])
}

// notify delivers a terminal job to its webhook, retrying with backoff.
func (g *Gateway) notify(j *fractal.Job) {
	if j.WebhookURL == "" {
		return
	}
	key, err := g.keys.Get(context.Background(), j.Owner)
	if err != nil {
		g.logger.Warn("webhook: owner key unknown", slog.String(logKeyJob, j.ID), slog.Any(logKeyError, err))
		return
	}
	body, _ := json.Marshal(struct {
		Type string `json:"type"`
		Data Video  `json:"data"`
	}{"video." + string(j.Status), g.videoOf(j)})
	g.wg.Add(1)
	go func() {
		defer g.wg.Done()
		client := &http.Client{Timeout: 10 * time.Second}
		delay := 500 * time.Millisecond
		for attempt := 1; attempt <= g.Config.WebhookAttempts; attempt++ {
			req, err := http.NewRequest(http.MethodPost, j.WebhookURL, bytes.NewReader(body))
			if err != nil {
				return
			}
			req.Header.Set("Content-Type", "application/json")
			req.Header.Set(HeaderSignature, WebhookSignature([]byte(key.WebhookSecret), g.now(), body))
			resp, err := client.Do(req)
			if err == nil {
				resp.Body.Close()
				if resp.StatusCode/100 == 2 {
					g.metrics.webhooks.WithLabelValues("delivered").Inc()
					return
				}
				err = fmt.Errorf("status %d", resp.StatusCode)
			}
			g.logger.Info("webhook delivery failed", slog.String(logKeyJob, j.ID), slog.Int("attempt", attempt), slog.Any(logKeyError, err))
			if !sleepCtx(g.bg, delay) {
				return
			}
			delay *= 2
		}
		g.metrics.webhooks.WithLabelValues("failed").Inc()
	}()
}
