package roster

import (
	"context"
	"encoding/json"
	"net/http"
	"sync"
	"time"

	"github.com/bangfu/bangfu"
)

// Receiver is a webhook receiver for development: `make run` points the
// demo base's webhook at it (POST /dev/roster-webhook/{base id}, mounted
// only when BANGFU_ENV=dev), so that deliveries can be watched with no
// other service. It does what a base's receiver should: checks the
// signature with the base's secret and the timestamp, and accepts each
// change once by its idempotency key. What it received is kept in memory
// only.
type Receiver struct {
	Roster *Service
	mu     sync.Mutex
	byKey  map[string]*Receipt
	order  []*Receipt
}

// Receipt is a change the receiver accepted.
type Receipt struct {
	IdempotencyKey string    `json:"idempotency_key"`
	BaseID         int64     `json:"base_id"`
	ReceivedAt     time.Time `json:"received_at"`
	// Requests counts the requests that carried this key (retries and
	// duplicates after it was accepted).
	Requests int             `json:"requests"`
	Payload  json.RawMessage `json:"payload"`
}

// Receive checks a delivery to base id and accepts it: 204 when new or
// already accepted, 401 for a signature or timestamp that does not verify,
// 404 for a base with no webhook.
func (r *Receiver) Receive(ctx context.Context, baseID int64, h http.Header, body []byte) (status int, err error) {
	_, secret, err := r.Roster.webhook(ctx, r.Roster.DB.Pool, baseID)
	if err != nil {
		return 0, err
	}
	if secret == "" {
		return 0, bangfu.NotFound("webhook")
	}
	if err := Verify([]byte(secret), h.Get(HeaderTimestamp), h.Get(HeaderSignature), body, r.Roster.Clock.Now()); err != nil {
		return 0, &bangfu.Error{Code: bangfu.EUNAUTHENTICATED, Message: "The delivery's signature or timestamp does not verify."}
	}
	key := h.Get(HeaderIdempotency)
	if key == "" || !json.Valid(body) {
		return 0, (bangfu.Problems{"body": "must be a signed roster change with an Idempotency-Key"}).Err()
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.byKey == nil {
		r.byKey = map[string]*Receipt{}
	}
	if rc, ok := r.byKey[key]; ok {
		rc.Requests++
		return http.StatusNoContent, nil
	}
	rc := &Receipt{IdempotencyKey: key, BaseID: baseID, ReceivedAt: r.Roster.Clock.Now(), Requests: 1, Payload: append(json.RawMessage(nil), body...)}
	r.byKey[key] = rc
	r.order = append(r.order, rc)
	if len(r.order) > 1000 {
		delete(r.byKey, r.order[0].IdempotencyKey)
		r.order = r.order[1:]
	}
	return http.StatusNoContent, nil
}

// Received returns what base id's receiver accepted, oldest first (the
// last thousand changes of all bases).
func (r *Receiver) Received(baseID int64) []Receipt {
	r.mu.Lock()
	defer r.mu.Unlock()
	out := []Receipt{}
	for _, rc := range r.order {
		if rc.BaseID == baseID {
			out = append(out, *rc)
		}
	}
	return out
}
