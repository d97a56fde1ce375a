package webui

import "net/url"

// Stale edits of forms with many fields. Such a form carries, besides each
// field, the value it was made with (hidden "orig.<field>"). When a save
// comes after someone else's, the form is shown again based on the
// current version: a field the user changed keeps their input, every other
// field shows the current value, so that saving again changes only what
// the user meant to change.

// origValues is the hidden "orig." fields of a form made from values.
func origValues(values url.Values, fields []string) url.Values {
	out := url.Values{}
	for _, f := range fields {
		out.Set(f, values.Get(f))
	}
	return out
}

// sentOrig is the "orig." fields the user sent back.
func sentOrig(sent url.Values, fields []string) url.Values {
	out := url.Values{}
	for _, f := range fields {
		out.Set(f, sent.Get("orig."+f))
	}
	return out
}

// mergeStale returns the input to show again after a stale save of sent:
// the fields the user changed from the form's original values keep their
// input; the others take current's value.
func mergeStale(sent, current url.Values, fields []string) url.Values {
	out := url.Values{}
	for _, f := range fields {
		if sent.Get(f) != sent.Get("orig."+f) {
			out.Set(f, sent.Get(f))
		} else {
			out.Set(f, current.Get(f))
		}
	}
	return out
}
