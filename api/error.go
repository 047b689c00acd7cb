package api

import (
	"context"
	"errors"
	"net/http"

	"github.com/labstack/echo/v4"

	"github.com/incidentmap/incidentmap/geo"
)

// statusClientClosed is logged for requests the client abandoned.
const statusClientClosed = 499

// errorBody is the JSON error document of every endpoint. For OGC API
// endpoints code is an OGC exception code (e.g. InvalidParameterValue).
type errorBody struct {
	Code        string           `json:"code"`
	Description string           `json:"description"`
	Errors      []geo.FieldError `json:"errors,omitempty"`
	RequestID   string           `json:"request_id,omitempty"`
}

// handleError is echo's single error handler: it maps domain errors to
// status codes and never shows internal messages for 5xx.
func (s *Server) handleError(err error, c echo.Context) {
	if c.Response().Committed {
		return
	}
	if errors.Is(err, context.Canceled) && c.Request().Context().Err() != nil {
		// The client went away; nobody reads an answer. 499 as nginx logs it.
		c.Response().Status = statusClientClosed
		return
	}
	status, body := s.errorResponse(err)
	body.RequestID = c.Response().Header().Get(echo.HeaderXRequestID)
	if status >= 500 {
		s.logger.Error("request failed", "method", c.Request().Method, "path", c.Request().URL.Path,
			"status", status, "request_id", body.RequestID, "err", err)
	}
	if status == http.StatusServiceUnavailable {
		c.Response().Header().Set("Retry-After", "5")
	}
	if c.Request().Method == http.MethodHead {
		err = c.NoContent(status)
	} else {
		err = c.JSON(status, body)
	}
	if err != nil {
		s.logger.Warn("write error response", "err", err)
	}
}

func (s *Server) errorResponse(err error) (int, errorBody) {
	var (
		paramErr *geo.ParamError
		bodyErr  *MalformedBodyError
		valErr   *geo.ValidationError
		httpErr  *echo.HTTPError
	)
	switch {
	case errors.As(err, &bodyErr):
		return http.StatusBadRequest, errorBody{Code: "MalformedBody", Description: "the body cannot be read as its media type", Errors: bodyErr.Errors}
	case errors.As(err, &paramErr):
		return http.StatusBadRequest, errorBody{Code: "InvalidParameterValue", Description: paramErr.Error()}
	case errors.As(err, &valErr):
		return http.StatusUnprocessableEntity, errorBody{Code: "ValidationFailed", Description: "the request has invalid fields", Errors: valErr.Errors}
	case errors.Is(err, geo.ErrCursorExpired):
		return http.StatusGone, errorBody{Code: "CursorExpired", Description: err.Error()}
	case errors.Is(err, geo.ErrNotFound):
		return http.StatusNotFound, errorBody{Code: "NotFound", Description: publicMessage(err, "not found")}
	case errors.Is(err, geo.ErrPreconditionFailed):
		return http.StatusPreconditionFailed, errorBody{Code: codeForStatus(http.StatusPreconditionFailed), Description: publicMessage(err, "precondition failed")}
	case errors.Is(err, geo.ErrConflict):
		return http.StatusConflict, errorBody{Code: "Conflict", Description: publicMessage(err, "conflict")}
	case errors.Is(err, geo.ErrUnauthorized):
		return http.StatusUnauthorized, errorBody{Code: "Unauthorized", Description: "missing or invalid bearer token"}
	case errors.Is(err, geo.ErrForbidden):
		return http.StatusForbidden, errorBody{Code: "Forbidden", Description: "your role may not do this"}
	case errors.Is(err, geo.ErrUnavailable):
		return http.StatusServiceUnavailable, errorBody{Code: "Unavailable", Description: "the database is unavailable; retry later"}
	case errors.Is(err, geo.ErrInvalid):
		return http.StatusBadRequest, errorBody{Code: "InvalidInput", Description: publicMessage(err, "invalid input")}
	case errors.Is(err, geo.ErrRateLimited):
		return http.StatusTooManyRequests, errorBody{Code: "TooManyRequests", Description: publicMessage(err, "too many requests; retry later")}
	case errors.Is(err, errBodyTooLarge):
		return http.StatusRequestEntityTooLarge, errorBody{Code: "PayloadTooLarge", Description: publicMessage(err, "body too large")}
	case errors.Is(err, errMediaType):
		return http.StatusUnsupportedMediaType, errorBody{Code: "UnsupportedMediaType", Description: publicMessage(err, "unsupported media type")}
	case errors.Is(err, errUnreadableBody):
		return http.StatusBadRequest, errorBody{Code: "BadRequest", Description: publicMessage(err, "could not read the request body")}
	case errors.Is(err, errBusy):
		// Like every 5xx the description stays generic.
		return http.StatusServiceUnavailable, errorBody{Code: "Unavailable", Description: http.StatusText(http.StatusServiceUnavailable)}
	case errors.As(err, &httpErr):
		// Only echo's own errors (unknown route, wrong method) arrive here.
		msg, _ := httpErr.Message.(string)
		if msg == "" || httpErr.Code >= 500 {
			msg = http.StatusText(httpErr.Code)
		}
		return httpErr.Code, errorBody{Code: codeForStatus(httpErr.Code), Description: msg}
	}
	return http.StatusInternalServerError, errorBody{Code: "InternalError", Description: "internal error"}
}

// Transport sentinels: refusals that belong to HTTP rather than to the
// domain. Handlers wrap them with refuse; errorResponse maps them.
var (
	errBodyTooLarge   = errors.New("payload too large")
	errMediaType      = errors.New("unsupported media type")
	errUnreadableBody = errors.New("unreadable request body")
	errBusy           = errors.New("server busy")
)

// refuse wraps sentinel with a message safe to show to the client.
func refuse(sentinel error, msg string) error { return &PublicError{Msg: msg, Err: sentinel} }

// PublicError is an error whose message is safe to show to clients. Domain
// code wraps a sentinel in it to explain a 4xx; anything else stays generic.
type PublicError struct {
	Msg string
	Err error
}

func (e *PublicError) Error() string { return e.Msg }
func (e *PublicError) Unwrap() error { return e.Err }

func publicMessage(err error, fallback string) string {
	var pe *PublicError
	if errors.As(err, &pe) {
		return pe.Msg
	}
	return fallback
}

func codeForStatus(status int) string {
	switch status {
	case http.StatusNotFound:
		return "NotFound"
	case http.StatusMethodNotAllowed:
		return "MethodNotAllowed"
	case http.StatusRequestEntityTooLarge:
		return "PayloadTooLarge"
	case http.StatusUnsupportedMediaType:
		return "UnsupportedMediaType"
	case http.StatusTooManyRequests:
		return "TooManyRequests"
	case http.StatusUnauthorized:
		return "Unauthorized"
	case http.StatusForbidden:
		return "Forbidden"
	case http.StatusServiceUnavailable:
		return "Unavailable"
	}
	if status >= 500 {
		return "InternalError"
	}
	return "BadRequest"
}
