package cql2

import (
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"
)

// tokenKind classifies a token of CQL2 text.
type tokenKind int

const (
	tokEOF    tokenKind = iota
	tokIdent            // a bare word: keyword or property name
	tokQuoted           // a "double quoted" property name
	tokString           // a 'single quoted' character literal
	tokNumber
	tokLParen
	tokRParen
	tokComma
	tokOp // = <> < <= > >=
)

// token is one lexeme with its byte offset.
type token struct {
	kind tokenKind
	text string // decoded: quotes and escapes removed
	num  float64
	pos  int
}

// upper is the keyword spelling of an identifier.
func (t token) upper() string {
	if t.kind != tokIdent {
		return ""
	}
	return strings.ToUpper(t.text)
}

// describe names a token in error messages.
func (t token) describe() string {
	switch t.kind {
	case tokEOF:
		return "end of filter"
	case tokString:
		return "string " + strconv.Quote(t.text)
	case tokQuoted:
		return "property " + strconv.Quote(t.text)
	case tokNumber:
		return "number " + strconv.FormatFloat(t.num, 'g', -1, 64)
	}
	return strconv.Quote(t.text)
}

// lex splits CQL2 text into tokens.
func lex(s string) ([]token, error) {
	if !utf8.ValidString(s) {
		return nil, errorf("filter is not valid UTF-8")
	}
	if i := strings.IndexByte(s, 0); i >= 0 {
		return nil, &Error{Offset: i, Message: "filter holds a NUL character"}
	}
	var toks []token
	i := 0
	for i < len(s) {
		c := s[i]
		switch {
		case c == ' ' || c == '\t' || c == '\n' || c == '\r':
			i++
		case c == '(':
			toks = append(toks, token{kind: tokLParen, text: "(", pos: i})
			i++
		case c == ')':
			toks = append(toks, token{kind: tokRParen, text: ")", pos: i})
			i++
		case c == ',':
			toks = append(toks, token{kind: tokComma, text: ",", pos: i})
			i++
		case c == '=':
			toks = append(toks, token{kind: tokOp, text: "=", pos: i})
			i++
		case c == '<' || c == '>':
			op := string(c)
			if i+1 < len(s) && (s[i+1] == '=' || c == '<' && s[i+1] == '>') {
				op += string(s[i+1])
			}
			toks = append(toks, token{kind: tokOp, text: op, pos: i})
			i += len(op)
		case c == '\'':
			text, n, err := lexQuoted(s[i:], '\'')
			if err != nil {
				return nil, &Error{Offset: i, Message: "unterminated string: a ' is missing"}
			}
			toks = append(toks, token{kind: tokString, text: text, pos: i})
			i += n
		case c == '"':
			text, n, err := lexQuoted(s[i:], '"')
			if err != nil {
				return nil, &Error{Offset: i, Message: `unterminated property name: a " is missing`}
			}
			toks = append(toks, token{kind: tokQuoted, text: text, pos: i})
			i += n
		case c >= '0' && c <= '9' || c == '.' || c == '-' || c == '+':
			n := lexNumber(s[i:])
			if n == 0 {
				return nil, &Error{Offset: i, Message: "unexpected " + strconv.Quote(string(c)) + " (arithmetic is not supported)"}
			}
			f, err := strconv.ParseFloat(s[i:i+n], 64)
			if err != nil {
				return nil, &Error{Offset: i, Message: "number " + strconv.Quote(s[i:i+n]) + " is out of range"}
			}
			toks = append(toks, token{kind: tokNumber, text: s[i : i+n], num: f, pos: i})
			i += n
		default:
			r, size := utf8.DecodeRuneInString(s[i:])
			if !isIdentStart(r) {
				return nil, &Error{Offset: i, Message: "unexpected character " + strconv.QuoteRune(r)}
			}
			j := i + size
			for j < len(s) {
				r, size := utf8.DecodeRuneInString(s[j:])
				if !isIdentPart(r) {
					break
				}
				j += size
			}
			toks = append(toks, token{kind: tokIdent, text: s[i:j], pos: i})
			i = j
		}
	}
	return append(toks, token{kind: tokEOF, pos: len(s)}), nil
}

// lexQuoted reads a quoted run starting at s[0] == q. A doubled quote
// stands for one; in strings \' does too (CQL2 escapeQuote), and \\ is
// kept as it is so that a string may end in an escaped backslash.
func lexQuoted(s string, q byte) (text string, n int, err error) {
	var b strings.Builder
	for i := 1; i < len(s); i++ {
		c := s[i]
		switch {
		case c == q && i+1 < len(s) && s[i+1] == q:
			b.WriteByte(q)
			i++
		case c == q:
			return b.String(), i + 1, nil
		case q == '\'' && c == '\\' && i+1 < len(s) && s[i+1] == '\\':
			b.WriteString(`\\`) // kept for LIKE, where it means one \
			i++
		case q == '\'' && c == '\\' && i+1 < len(s) && s[i+1] == '\'':
			b.WriteByte('\'')
			i++
		default:
			b.WriteByte(c)
		}
	}
	return "", 0, errorf("unterminated")
}

// lexNumber returns the length of the number at the start of s, or 0.
func lexNumber(s string) int {
	i := 0
	if i < len(s) && (s[i] == '-' || s[i] == '+') {
		i++
	}
	digits := 0
	for i < len(s) && s[i] >= '0' && s[i] <= '9' {
		i++
		digits++
	}
	if i < len(s) && s[i] == '.' {
		i++
		for i < len(s) && s[i] >= '0' && s[i] <= '9' {
			i++
			digits++
		}
	}
	if digits == 0 {
		return 0
	}
	if i < len(s) && (s[i] == 'e' || s[i] == 'E') {
		j := i + 1
		if j < len(s) && (s[j] == '-' || s[j] == '+') {
			j++
		}
		k := j
		for k < len(s) && s[k] >= '0' && s[k] <= '9' {
			k++
		}
		if k > j {
			i = k
		}
	}
	return i
}

func isIdentStart(r rune) bool {
	return unicode.IsLetter(r) || r == '_' || r == ':' || r == '@'
}

func isIdentPart(r rune) bool {
	return isIdentStart(r) || unicode.IsDigit(r) || r == '.'
}
