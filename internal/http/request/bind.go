package request

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"mime"
	"net/http"
	"reflect"
	"strconv"
	"strings"

	"github.com/labstack/echo/v4"

	"github.com/bangfu/bangfu"
)

// MaxTextBytes caps any one string of a JSON body, whatever its field:
// services cap their fields far lower, and a string this long is an attack
// or a mistake, never a value.
const MaxTextBytes = 64 << 10

// Bind decodes the JSON request body into v, strictly: unknown fields,
// wrong types and trailing data are invalid, each naming the field. Then
// every value decoded into v is checked, whichever service reads it:
//   - a string must not hold control characters (bangfu.HasControl) nor
//     exceed MaxTextBytes;
//   - a number decoded into an int (or int32) field must fit 32 bits, since
//     such fields are PostgreSQL integers (ids are int64).
//
// Each problem names the field by its JSON path ("measures.0.kind").
func Bind(c echo.Context, v any) error {
	req := c.Request()
	if mt, _, _ := mime.ParseMediaType(req.Header.Get(echo.HeaderContentType)); mt != echo.MIMEApplicationJSON {
		return Invalid("body", "must be JSON, sent with Content-Type: application/json")
	}
	body, err := io.ReadAll(req.Body)
	if err != nil {
		return decodeError(err, nil, nil)
	}
	return BindBytes(body, v)
}

// BindBytes is Bind for a body already read.
func BindBytes(body []byte, v any) error {
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return decodeError(err, body, reflect.TypeOf(v))
	}
	if dec.More() {
		return Invalid("body", "must hold exactly one JSON value")
	}
	var p bangfu.Problems
	checkValue(&p, reflect.ValueOf(v), "")
	return p.Err()
}

func decodeError(err error, body []byte, t reflect.Type) error {
	var (
		syntax *json.SyntaxError
		typ    *json.UnmarshalTypeError
		tooBig *http.MaxBytesError
	)
	switch {
	case errors.Is(err, io.EOF):
		return Invalid("body", "is required")
	case errors.As(err, &tooBig):
		return bangfu.Errorf(bangfu.ETOOLARGE, "The request body is too large.")
	case errors.As(err, &syntax), errors.Is(err, io.ErrUnexpectedEOF):
		return Invalid("body", "is not valid JSON")
	case errors.As(err, &typ):
		field := typ.Field
		if field == "" {
			field = "body"
		}
		return Invalid(field, typeProblem(typ.Type))
	case strings.HasPrefix(err.Error(), "json: unknown field "):
		name := strings.Trim(strings.TrimPrefix(err.Error(), "json: unknown field "), `"`)
		if name == "" || len(name) > 100 || bangfu.HasControl(name) {
			return Invalid("body", "has a field that is not a known one")
		}
		return Invalid(name, "is not a known field")
	}
	var de *bangfu.Error
	if errors.As(err, &de) {
		return err
	}
	// A type's own UnmarshalJSON failed (a time that is only a date): the
	// decoder does not say where, so find the field whose value it refuses.
	if t != nil {
		if path, ft, ok := locateRefused(t, body, ""); ok {
			if path == "" {
				path = "body"
			}
			return Invalid(path, typeProblem(ft))
		}
	}
	return Invalid("body", "is not valid JSON for this request")
}

var unmarshaler = reflect.TypeFor[json.Unmarshaler]()

// locateRefused returns the JSON path of the first value in raw that a
// json.Unmarshaler of type t (or a type within it) refuses.
func locateRefused(t reflect.Type, raw []byte, path string) (string, reflect.Type, bool) {
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 || string(raw) == "null" {
		return "", nil, false
	}
	if reflect.PointerTo(t).Implements(unmarshaler) {
		if err := reflect.New(t).Interface().(json.Unmarshaler).UnmarshalJSON(raw); err != nil {
			return path, t, true
		}
		return "", nil, false
	}
	switch t.Kind() {
	case reflect.Struct:
		var obj map[string]json.RawMessage
		if json.Unmarshal(raw, &obj) != nil {
			return "", nil, false
		}
		for _, f := range jsonFields(t) {
			for k, v := range obj {
				if strings.EqualFold(k, f.name) {
					if p, ft, ok := locateRefused(f.typ, v, join(path, f.name)); ok {
						return p, ft, true
					}
				}
			}
		}
	case reflect.Slice, reflect.Array:
		var items []json.RawMessage
		if json.Unmarshal(raw, &items) != nil {
			return "", nil, false
		}
		for i, item := range items {
			if p, ft, ok := locateRefused(t.Elem(), item, join(path, strconv.Itoa(i))); ok {
				return p, ft, true
			}
		}
	case reflect.Map:
		var obj map[string]json.RawMessage
		if json.Unmarshal(raw, &obj) != nil {
			return "", nil, false
		}
		for k, v := range obj {
			if p, ft, ok := locateRefused(t.Elem(), v, join(path, k)); ok {
				return p, ft, true
			}
		}
	}
	return "", nil, false
}

type jsonField struct {
	name  string
	index []int
	typ   reflect.Type
}

// jsonFields lists the fields encoding/json decodes into a struct of type
// t, by JSON name, embedded structs' fields included.
func jsonFields(t reflect.Type) []jsonField {
	var out []jsonField
	for i := range t.NumField() {
		f := t.Field(i)
		tag, _, _ := strings.Cut(f.Tag.Get("json"), ",")
		if tag == "-" {
			continue
		}
		if f.Anonymous && tag == "" {
			ft := f.Type
			if ft.Kind() == reflect.Pointer {
				ft = ft.Elem()
			}
			if ft.Kind() == reflect.Struct {
				for _, ef := range jsonFields(ft) {
					ef.index = append([]int{i}, ef.index...)
					out = append(out, ef)
				}
				continue
			}
		}
		if !f.IsExported() {
			continue
		}
		name := tag
		if name == "" {
			name = f.Name
		}
		out = append(out, jsonField{name: name, index: []int{i}, typ: f.Type})
	}
	return out
}

func join(path, name string) string {
	if path == "" {
		return name
	}
	return path + "." + name
}

// checkValue records the problems of every string and int in v; see Bind.
func checkValue(p *bangfu.Problems, v reflect.Value, path string) {
	switch v.Kind() {
	case reflect.Pointer, reflect.Interface:
		if !v.IsNil() {
			checkValue(p, v.Elem(), path)
		}
	case reflect.String:
		s := v.String()
		switch {
		case bangfu.HasControl(s):
			p.Add(field(path), "must not contain control characters")
		case len(s) > MaxTextBytes:
			p.Add(field(path), fmt.Sprintf("must be at most %d bytes", MaxTextBytes))
		}
	case reflect.Int, reflect.Int32:
		if n := v.Int(); n < math.MinInt32 || n > math.MaxInt32 {
			p.Add(field(path), "is out of range")
		}
	case reflect.Struct:
		// A wrapper with its own UnmarshalJSON (bangfu.Nullable) stands for
		// its field: its parts are checked under the field's name.
		wrapper := reflect.PointerTo(v.Type()).Implements(unmarshaler)
		for _, f := range jsonFields(v.Type()) {
			fv, err := v.FieldByIndexErr(f.index)
			if err != nil {
				continue
			}
			name := join(path, f.name)
			if wrapper {
				name = path
			}
			checkValue(p, fv, name)
		}
	case reflect.Slice, reflect.Array:
		if v.Type().Elem().Kind() == reflect.Uint8 {
			return // bytes (a UUID, raw JSON), not text
		}
		for i := range v.Len() {
			checkValue(p, v.Index(i), join(path, strconv.Itoa(i)))
		}
	case reflect.Map:
		iter := v.MapRange()
		for iter.Next() {
			k := iter.Key()
			if k.Kind() == reflect.String && (bangfu.HasControl(k.String()) || len(k.String()) > MaxTextBytes) {
				p.Add(field(path), "has a key that is not text")
				continue
			}
			checkValue(p, iter.Value(), join(path, fmt.Sprint(k.Interface())))
		}
	}
}

func field(path string) string {
	if path == "" {
		return "body"
	}
	return path
}

// typeProblem says what a JSON value of type t must be.
func typeProblem(t reflect.Type) string {
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	if t.Name() == "Time" {
		return "must be a time like 2026-07-31T09:00:00+08:00"
	}
	switch t.Kind() {
	case reflect.String:
		return "must be a string"
	case reflect.Bool:
		return "must be true or false"
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		return "must be a whole number"
	case reflect.Float32, reflect.Float64:
		return "must be a number"
	case reflect.Slice, reflect.Array:
		return "must be an array"
	case reflect.Map, reflect.Struct:
		return "must be an object"
	}
	return "must be of type " + t.String()
}
