package api

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"strings"
	"unicode/utf8"

	"github.com/incidentmap/incidentmap/geo"
)

// maxJSONDepth caps nesting: no legitimate body of this API goes deeper.
const maxJSONDepth = 8

// jsonShape lists, for each object path in a body ("" is the top level,
// "properties" the object under it), the member names allowed there.
// Arrays keep their parent's path.
type jsonShape map[string][]string

// checkJSON rejects what encoding/json would let through: invalid UTF-8,
// NUL bytes, nesting deeper than maxJSONDepth, duplicate keys, and keys not
// in shape — including case variants, which encoding/json would silently
// match. Errors are *geo.ValidationError naming the field.
func checkJSON(body []byte, shape jsonShape) error {
	if !utf8.Valid(body) {
		return fieldError("body", "not valid UTF-8")
	}
	if bytes.IndexByte(body, 0) >= 0 || bytes.Contains(body, []byte(`\u0000`)) {
		return fieldError("body", "NUL characters are not allowed")
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.UseNumber()
	if err := walkJSON(dec, "", shape, 0); err != nil {
		return err
	}
	if _, err := dec.Token(); err != io.EOF {
		return fieldError("body", "unexpected data after the JSON value")
	}
	return nil
}

// walkJSON reads one value at path.
func walkJSON(dec *json.Decoder, path string, shape jsonShape, depth int) error {
	if depth > maxJSONDepth {
		return fieldError(orBody(path), "nested deeper than %d levels", maxJSONDepth)
	}
	tok, err := dec.Token()
	if err != nil {
		return syntaxError(err)
	}
	delim, ok := tok.(json.Delim)
	if !ok {
		return nil
	}
	switch delim {
	case '[':
		for dec.More() {
			if err := walkJSON(dec, path, shape, depth+1); err != nil {
				return err
			}
		}
	case '{':
		allowed, known := shape[path]
		seen := map[string]bool{}
		for dec.More() {
			tok, err := dec.Token()
			if err != nil {
				return syntaxError(err)
			}
			key := tok.(string)
			field := joinPath(path, key)
			if !known || !contains(allowed, key) {
				return fieldError(field, "unknown field")
			}
			if seen[key] {
				return fieldError(field, "given more than once")
			}
			seen[key] = true
			if err := walkJSON(dec, field, shape, depth+1); err != nil {
				return err
			}
		}
	}
	_, err = dec.Token() // the closing delimiter
	return syntaxError(err)
}

func syntaxError(err error) error {
	if err == nil {
		return nil
	}
	if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
		return fieldError("body", "truncated JSON")
	}
	return fieldError("body", "malformed JSON: %s", strings.TrimPrefix(err.Error(), "json: "))
}

func fieldError(field, format string, args ...any) error {
	v := &geo.ValidationError{}
	v.Add(field, format, args...)
	return v
}

func joinPath(path, key string) string {
	if len(key) > 64 {
		key = key[:64] + "…"
	}
	key = strings.ToValidUTF8(key, "?")
	if path == "" {
		return key
	}
	return path + "." + key
}

func orBody(path string) string {
	if path == "" {
		return "body"
	}
	return path
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// decodeStrict checks body against shape and decodes it into v.
func decodeStrict(body []byte, shape jsonShape, v any) error {
	if err := checkJSON(body, shape); err != nil {
		return err
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	if err := dec.Decode(v); err != nil {
		var typeErr *json.UnmarshalTypeError
		if errors.As(err, &typeErr) {
			field, want := typeErr.Field, typeErr.Type.Kind().String()
			if field == "" {
				field, want = "body", "a JSON object"
			}
			return fieldError(field, "wrong type: want %s", want)
		}
		return fieldError("body", "%s", strings.TrimPrefix(err.Error(), "json: "))
	}
	return nil
}
