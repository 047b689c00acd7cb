package cql2

import (
	"fmt"
	"strconv"
)

// Error is a filter that cannot be parsed or compiled: the client's fault,
// so the API answers 400 with its text.
type Error struct {
	// Property names the property the error is about, if any.
	Property string
	// Offset is the byte offset in CQL2 text where the error was found, or -1.
	Offset int
	// Message says what is wrong.
	Message string
}

// Error implements error.
func (e *Error) Error() string {
	s := "filter: "
	if e.Offset >= 0 {
		s += "at offset " + strconv.Itoa(e.Offset) + ": "
	}
	if e.Property != "" {
		s += "property " + strconv.Quote(e.Property) + ": "
	}
	return s + e.Message
}

// errorf makes an *Error without a position.
func errorf(format string, args ...any) *Error {
	return &Error{Offset: -1, Message: fmt.Sprintf(format, args...)}
}

// propErrorf makes an *Error about one property.
func propErrorf(prop, format string, args ...any) *Error {
	return &Error{Property: prop, Offset: -1, Message: fmt.Sprintf(format, args...)}
}
