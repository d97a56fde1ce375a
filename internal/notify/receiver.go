package notify

import (
	"encoding/json"
	"sync"
	"time"

	"github.com/bangfu/bangfu"
)

// Receiver stands in for a 企业微信 group bot in development, so that a
// developer sees the digest arrive with no outside service: `make run`
// points the demo counselor's channel at it (POST /dev/webhook/send?key=…,
// mounted only when BANGFU_ENV=dev) and the page /dev/webhook shows what
// arrived. It answers as the real bot does — {"errcode":0,"errmsg":"ok"},
// or errcode 93000 "invalid webhook url" without a key or with the key
// "revoked" (to see a channel break) — and keeps the last 200 messages in
// this process's memory. A message that comes again with an
// Idempotency-Key it has seen is marked a duplicate.
type Receiver struct {
	Clock bangfu.Clock

	mu    sync.Mutex
	items []Received
}

// Received is a message the Receiver took.
type Received struct {
	At             time.Time `json:"at"`
	Bot            string    `json:"bot"`
	IdempotencyKey string    `json:"idempotency_key"`
	Content        string    `json:"content"`
	Duplicate      bool      `json:"duplicate"`
}

// maxReceived is how many messages the Receiver keeps.
const maxReceived = 200

// Receive takes one message posted to the bot named key and returns the
// bot's answer.
func (r *Receiver) Receive(key, idempotencyKey string, body []byte) map[string]any {
	if key == "" || key == "revoked" {
		return map[string]any{"errcode": 93000, "errmsg": "invalid webhook url"}
	}
	var msg webhookMessage
	if err := json.Unmarshal(body, &msg); err != nil || msg.MsgType != "text" || msg.Text.Content == "" {
		return map[string]any{"errcode": 40008, "errmsg": "invalid message type"}
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	dup := false
	for _, it := range r.items {
		dup = dup || (idempotencyKey != "" && it.IdempotencyKey == idempotencyKey)
	}
	bot := key
	if len(bot) > 4 {
		bot = "…" + bot[len(bot)-4:]
	}
	r.items = append(r.items, Received{At: r.Clock.Now(), Bot: bot, IdempotencyKey: idempotencyKey, Content: msg.Text.Content, Duplicate: dup})
	if len(r.items) > maxReceived {
		r.items = r.items[len(r.items)-maxReceived:]
	}
	return map[string]any{"errcode": 0, "errmsg": "ok"}
}

// Received returns what arrived, newest first.
func (r *Receiver) Received() []Received {
	r.mu.Lock()
	defer r.mu.Unlock()
	out := make([]Received, len(r.items))
	for i, it := range r.items {
		out[len(r.items)-1-i] = it
	}
	return out
}
