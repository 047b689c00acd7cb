package geo

import (
	"errors"
	"fmt"
	"strings"
)

// Sentinel domain errors. Storage and transport layers wrap or map to these so
// callers can use errors.Is without knowing about SQL or HTTP.
var (
	ErrNotFound     = errors.New("not found")
	ErrInvalid      = errors.New("invalid input")
	ErrConflict     = errors.New("conflict")
	ErrUnauthorized = errors.New("unauthorized")
	ErrForbidden    = errors.New("forbidden")
	ErrUnavailable  = errors.New("service unavailable")
	// ErrPreconditionFailed means an If-Match version no longer matches.
	ErrPreconditionFailed = errors.New("precondition failed")
	// ErrMigrationsPending means the database schema is older than the binary.
	ErrMigrationsPending = errors.New("database migrations pending")
)

// FieldError names one invalid input field and says what is wrong with it.
type FieldError struct {
	Field   string `json:"field"`
	Message string `json:"message"`
}

// ValidationError collects the field errors of one input. It matches
// ErrInvalid with errors.Is.
type ValidationError struct {
	Errors []FieldError
}

// Add records one invalid field.
func (v *ValidationError) Add(field, format string, args ...any) {
	v.Errors = append(v.Errors, FieldError{Field: field, Message: fmt.Sprintf(format, args...)})
}

// Err returns v when it holds errors and nil otherwise, so a validator can end
// with `return v.Err()`.
func (v *ValidationError) Err() error {
	if v == nil || len(v.Errors) == 0 {
		return nil
	}
	return v
}

func (v *ValidationError) Error() string {
	parts := make([]string, len(v.Errors))
	for i, e := range v.Errors {
		parts[i] = e.Field + ": " + e.Message
	}
	return strings.Join(parts, "; ")
}

// Is makes errors.Is(v, ErrInvalid) true.
func (v *ValidationError) Is(target error) bool { return target == ErrInvalid }

// ParamError is an invalid query parameter, reported to OGC API clients as
// InvalidParameterValue. It matches ErrInvalid with errors.Is.
type ParamError struct {
	Param   string
	Message string
}

// Invalidf builds a ParamError for param with a formatted message.
func Invalidf(param, format string, args ...any) *ParamError {
	return &ParamError{Param: param, Message: fmt.Sprintf(format, args...)}
}

func (e *ParamError) Error() string { return e.Param + ": " + e.Message }

// Is makes errors.Is(e, ErrInvalid) true.
func (e *ParamError) Is(target error) bool { return target == ErrInvalid }
