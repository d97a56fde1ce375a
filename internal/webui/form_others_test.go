package webui

import (
	"net/url"
	"testing"

	"github.com/stretchr/testify/require"
)

// TestMergeStale: after a stale save the form keeps the fields the user
// changed and takes the current value of every other field.
func TestMergeStale(t *testing.T) {
	t.Parallel()
	fields := []string{"name", "role", "email"}
	sent := url.Values{
		"name": {"陈建国"}, "orig.name": {"陈老师"}, // changed by the user
		"role": {"counselor"}, "orig.role": {"counselor"}, // untouched; someone else made it supervisor
		"email": {""}, "orig.email": {"chen@example.edu.cn"}, // cleared by the user
	}
	current := url.Values{"name": {"陈老师"}, "role": {"supervisor"}, "email": {"chen@example.edu.cn"}}
	require.Equal(t, url.Values{"name": {"陈建国"}, "role": {"supervisor"}, "email": {""}}, mergeStale(sent, current, fields))
	require.Equal(t, url.Values{"name": {"陈老师"}, "role": {"counselor"}, "email": {"chen@example.edu.cn"}}, sentOrig(sent, fields))
	require.Equal(t, current, origValues(current, fields))
}
