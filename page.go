package bangfu

import (
	"encoding/base64"
	"encoding/json"
	"strconv"
)

// Page selects one page of a list ordered by id: at most Limit items after
// the item with id After.
type Page struct {
	Limit int
	After int64
}

// Page size bounds of every list endpoint.
const (
	DefaultPageLimit = 50
	MaxPageLimit     = 200
)

// ParsePage reads the limit and cursor query parameters.
func ParsePage(limit, cursor string) (Page, error) {
	p := Page{Limit: DefaultPageLimit}
	var probs Problems
	if limit != "" {
		n, err := strconv.Atoi(limit)
		if err != nil || n < 1 || n > MaxPageLimit {
			probs.Add("limit", "must be a whole number from 1 to 200")
		}
		p.Limit = n
	}
	if cursor != "" {
		id, ok := DecodeCursor(cursor)
		if !ok {
			probs.Add("cursor", "is not a cursor returned by this list")
		}
		p.After = id
	}
	return p, probs.Err()
}

// EncodeCursor returns the opaque cursor that continues a list after id.
func EncodeCursor(id int64) string {
	return base64.RawURLEncoding.EncodeToString([]byte("c" + strconv.FormatInt(id, 10)))
}

// DecodeCursor reverses EncodeCursor.
func DecodeCursor(c string) (int64, bool) {
	b, err := base64.RawURLEncoding.DecodeString(c)
	if err != nil || len(b) < 2 || b[0] != 'c' {
		return 0, false
	}
	id, err := strconv.ParseInt(string(b[1:]), 10, 64)
	return id, err == nil && id >= 0
}

// List is one page of items and the cursor of the next page ("" at the end).
type List[T any] struct {
	Items      []T    `json:"items"`
	NextCursor string `json:"next_cursor"`
}

// NewList builds a List from up to limit+1 fetched items: the extra item,
// when present, only says that another page exists.
func NewList[T any](items []T, limit int, id func(T) int64) List[T] {
	l := List[T]{Items: items}
	if l.Items == nil {
		l.Items = []T{}
	}
	if len(items) > limit {
		l.Items = items[:limit]
		l.NextCursor = EncodeCursor(id(l.Items[limit-1]))
	}
	return l
}

// Nullable is a JSON field that may be absent, null or a value; PATCH
// bodies use it to tell "leave alone" from "clear".
type Nullable[T any] struct {
	Set   bool // the field was present
	Null  bool // it was null
	Value T
}

// UnmarshalJSON records presence and nullness.
func (n *Nullable[T]) UnmarshalJSON(b []byte) error {
	n.Set = true
	if string(b) == "null" {
		n.Null = true
		return nil
	}
	return json.Unmarshal(b, &n.Value)
}

// Ptr returns nil when n is null or absent, and a pointer to its value otherwise.
func (n Nullable[T]) Ptr() *T {
	if !n.Set || n.Null {
		return nil
	}
	v := n.Value
	return &v
}
