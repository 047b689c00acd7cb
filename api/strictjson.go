package api

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"strconv"
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
		return malformed("body", "not valid UTF-8")
	}
	if bytes.IndexByte(body, 0) >= 0 || bytes.Contains(body, []byte(`\u0000`)) {
		return malformed("body", "NUL characters are not allowed")
	}
	if err := checkSurrogates(body); err != nil {
		return err
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.UseNumber()
	if err := walkJSON(dec, "", shape, 0); err != nil {
		return err
	}
	if _, err := dec.Token(); err != io.EOF {
		return malformed("body", "unexpected data after the JSON value")
	}
	return nil
}

// walkJSON reads one value at path.
func walkJSON(dec *json.Decoder, path string, shape jsonShape, depth int) error {
	if depth > maxJSONDepth {
		return malformed(orBody(path), "nested deeper than %d levels", maxJSONDepth)
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
				return malformed(field, "unknown field")
			}
			if seen[key] {
				return malformed(field, "given more than once")
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
		return malformed("body", "truncated JSON")
	}
	return malformed("body", "malformed JSON: %s", strings.TrimPrefix(err.Error(), "json: "))
}

// MalformedBodyError is a body that cannot be read as its media type:
// bad syntax or encoding, too deep, a key given twice or unknown. It
// answers 400, where a well-formed body with invalid values answers 422.
type MalformedBodyError struct {
	*geo.ValidationError
}

// malformed builds a MalformedBodyError naming field.
func malformed(field, format string, args ...any) error {
	v := &geo.ValidationError{}
	v.Add(field, format, args...)
	return &MalformedBodyError{v}
}

// checkSurrogates refuses \u escapes of UTF-16 surrogates that do not form
// a pair: encoding/json would store them as U+FFFD, altering the text.
func checkSurrogates(body []byte) error {
	inString := false
	for i := 0; i < len(body); i++ {
		switch c := body[i]; {
		case c == '"':
			inString = !inString
		case c == '\\' && inString && i+1 < len(body):
			if body[i+1] != 'u' {
				i++ // an escaped character, possibly a quote or backslash
				continue
			}
			r, ok := hex4(body, i+2)
			if !ok || r < 0xd800 || r > 0xdfff {
				i++
				continue
			}
			low, okLow := rune(0), false
			if r <= 0xdbff && i+11 < len(body) && body[i+6] == '\\' && body[i+7] == 'u' {
				low, okLow = hex4(body, i+8)
			}
			if !okLow || low < 0xdc00 || low > 0xdfff {
				return malformed("body", "lone UTF-16 surrogate escape \\u%04x: text must be valid Unicode", r)
			}
			i += 11
		}
	}
	return nil
}

// hex4 reads four hex digits at b[i:].
func hex4(b []byte, i int) (rune, bool) {
	if i+4 > len(b) {
		return 0, false
	}
	var r rune
	for _, c := range b[i : i+4] {
		switch {
		case c >= '0' && c <= '9':
			r = r<<4 | rune(c-'0')
		case c >= 'a' && c <= 'f':
			r = r<<4 | rune(c-'a'+10)
		case c >= 'A' && c <= 'F':
			r = r<<4 | rune(c-'A'+10)
		default:
			return 0, false
		}
	}
	return r, true
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
		return malformed("body", "%s", strings.TrimPrefix(err.Error(), "json: "))
	}
	return nil
}

// checkCharset refuses a JSON body declared in another charset than
// UTF-8: JSON exchanged between systems is UTF-8 (RFC 8259 §8.1), and
// reading another charset as UTF-8 would store different text.
func checkCharset(params map[string]string) error {
	if cs, ok := params["charset"]; ok && !strings.EqualFold(cs, "utf-8") && !strings.EqualFold(cs, "utf8") {
		return refuse(errMediaType,
			"charset "+strconv.Quote(cs)+" is not supported: send the JSON body as UTF-8")
	}
	return nil
}
