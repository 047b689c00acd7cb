package api

import (
	"bufio"
	"context"
	"fmt"
	"net/http"
	"strconv"
	"sync"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/incidentmap/incidentmap/geo"
)

// EventStore is the source of live incident events.
type EventStore interface {
	IncidentEvents(ctx context.Context, after int64, limit int) ([]geo.IncidentEvent, error)
	LatestEventID(ctx context.Context) (int64, error)
	PruneEvents(ctx context.Context, keep time.Duration) error
	WatchEvents(ctx context.Context, wake func()) error
}

// Live update tuning.
const (
	sseHeartbeat     = 15 * time.Second
	sseClientBuffer  = 256 // events a client may lag behind before it is dropped
	sseBacklogLimit  = 1000
	sseWriteDeadline = 10 * time.Second
	eventPoll        = 5 * time.Second // safety net if a NOTIFY is ever missed
	eventKeep        = time.Hour
)

// eventHub fans incident events out to this instance's SSE clients. Each
// instance reads events from PostgreSQL, woken by NOTIFY, so every instance
// delivers every event whichever instance wrote it.
type eventHub struct {
	store      EventStore
	maxClients int

	mu      sync.Mutex
	clients map[*sseClient]struct{}
	last    int64 // newest event id broadcast
	closed  chan struct{}
	wakeCh  chan struct{}
}

type sseClient struct {
	events  chan geo.IncidentEvent
	dropped chan struct{} // closed when the client fell too far behind
}

func newEventHub(store EventStore, maxClients int) *eventHub {
	return &eventHub{store: store, maxClients: maxClients, clients: map[*sseClient]struct{}{},
		closed: make(chan struct{}), wakeCh: make(chan struct{}, 1)}
}

func (h *eventHub) wake() {
	select {
	case h.wakeCh <- struct{}{}:
	default:
	}
}

// run listens and broadcasts until ctx ends.
func (h *eventHub) run(ctx context.Context, logger interface{ Warn(string, ...any) }) {
	go func() {
		for ctx.Err() == nil {
			if err := h.store.WatchEvents(ctx, h.wake); err != nil {
				logger.Warn("watch incident events", "err", err)
				sleepCtx(ctx, 5*time.Second)
			}
		}
	}()
	for ctx.Err() == nil {
		id, err := h.store.LatestEventID(ctx)
		if err == nil {
			h.mu.Lock()
			h.last = id
			h.mu.Unlock()
			break
		}
		sleepCtx(ctx, time.Second)
	}
	poll := time.NewTicker(eventPoll)
	defer poll.Stop()
	prune := time.NewTicker(10 * time.Minute)
	defer prune.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-h.wakeCh:
		case <-poll.C:
		case <-prune.C:
			if err := h.store.PruneEvents(ctx, eventKeep); err != nil {
				logger.Warn("prune incident events", "err", err)
			}
			continue
		}
		if err := h.broadcastNew(ctx); err != nil && ctx.Err() == nil {
			logger.Warn("read incident events", "err", err)
		}
	}
}

func sleepCtx(ctx context.Context, d time.Duration) {
	select {
	case <-ctx.Done():
	case <-time.After(d):
	}
}

// broadcastNew sends every event newer than the last one sent.
func (h *eventHub) broadcastNew(ctx context.Context) error {
	for {
		h.mu.Lock()
		after := h.last
		h.mu.Unlock()
		events, err := h.store.IncidentEvents(ctx, after, sseBacklogLimit)
		if err != nil || len(events) == 0 {
			return err
		}
		h.mu.Lock()
		for _, e := range events {
			for c := range h.clients {
				select {
				case c.events <- e:
				default: // too slow: drop it rather than hold everyone back
					delete(h.clients, c)
					close(c.dropped)
				}
			}
			h.last = e.ID
		}
		h.mu.Unlock()
		if len(events) < sseBacklogLimit {
			return nil
		}
	}
}

// subscribe adds a client; nil when the instance has too many.
func (h *eventHub) subscribe() (*sseClient, int64) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if len(h.clients) >= h.maxClients {
		return nil, 0
	}
	c := &sseClient{events: make(chan geo.IncidentEvent, sseClientBuffer), dropped: make(chan struct{})}
	h.clients[c] = struct{}{}
	return c, h.last
}

func (h *eventHub) unsubscribe(c *sseClient) {
	h.mu.Lock()
	defer h.mu.Unlock()
	delete(h.clients, c)
}

// count is the number of connected clients.
func (h *eventHub) count() int {
	h.mu.Lock()
	defer h.mu.Unlock()
	return len(h.clients)
}

// close ends every stream (server shutdown).
func (h *eventHub) close() {
	h.mu.Lock()
	defer h.mu.Unlock()
	select {
	case <-h.closed:
	default:
		close(h.closed)
	}
}

// events streams incident events as Server-Sent Events. Last-Event-ID (or
// ?last_event_id= for clients that cannot set headers) resumes after that
// event from the short backlog kept in the database.
func (s *Server) events(c echo.Context) error {
	if err := rejectParams(c, "last_event_id"); err != nil {
		return err
	}
	var resume int64 = -1
	if v := c.Request().Header.Get("Last-Event-ID"); v != "" || c.QueryParam("last_event_id") != "" {
		if v == "" {
			v = c.QueryParam("last_event_id")
		}
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil || n < 0 {
			return geo.Invalidf("Last-Event-ID", "want an event id")
		}
		resume = n
	}
	client, current := s.hub.subscribe()
	if client == nil {
		c.Response().Header().Set("Retry-After", "30")
		return echo.NewHTTPError(http.StatusServiceUnavailable, "too many live clients; retry later")
	}
	defer s.hub.unsubscribe(client)

	res := c.Response()
	res.Header().Set(echo.HeaderContentType, "text/event-stream")
	res.Header().Set("Cache-Control", "no-store")
	res.Header().Set("X-Accel-Buffering", "no") // nginx: do not buffer the stream
	rc := http.NewResponseController(res.Writer)
	// The stream outlives the server's WriteTimeout; each write gets its own.
	_ = rc.SetWriteDeadline(time.Time{})
	res.WriteHeader(http.StatusOK)
	w := bufio.NewWriter(res)
	send := func(write func()) error {
		_ = rc.SetWriteDeadline(time.Now().Add(sseWriteDeadline))
		write()
		if err := w.Flush(); err != nil {
			return err
		}
		return rc.Flush()
	}
	if err := send(func() { fmt.Fprintf(w, "retry: 3000\n: connected\n\n") }); err != nil {
		return nil
	}
	sent := current
	if resume >= 0 && resume < current {
		backlog, err := s.deps.Events.IncidentEvents(c.Request().Context(), resume, sseBacklogLimit)
		if err != nil {
			return nil // the client reconnects and resumes
		}
		for _, e := range backlog {
			if e.ID > current {
				break // the hub delivers these
			}
			if err := send(func() { writeEvent(w, e) }); err != nil {
				return nil
			}
		}
	}
	heartbeat := time.NewTicker(sseHeartbeat)
	defer heartbeat.Stop()
	for {
		select {
		case e := <-client.events:
			if e.ID <= sent {
				continue
			}
			if err := send(func() { writeEvent(w, e) }); err != nil {
				return nil
			}
		case <-heartbeat.C:
			if err := send(func() { fmt.Fprint(w, ": ping\n\n") }); err != nil {
				return nil
			}
		case <-client.dropped:
			return nil
		case <-s.hub.closed:
			return nil
		case <-c.Request().Context().Done():
			return nil
		}
	}
}

func writeEvent(w *bufio.Writer, e geo.IncidentEvent) {
	feature := e.Feature
	if feature == nil {
		feature = []byte(fmt.Sprintf(`{"type":"Feature","id":%d,"geometry":null,"properties":{"status":"retracted"}}`, e.IncidentID))
	}
	fmt.Fprintf(w, "id: %d\nevent: %s\ndata: ", e.ID, e.Type)
	w.Write(feature)
	w.WriteString("\n\n")
}
