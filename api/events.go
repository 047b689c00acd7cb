package api

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"net/http"
	"sort"
	"strconv"
	"sync"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/incidentmap/incidentmap/geo"
)

// EventStore is the source of live incident events.
type EventStore interface {
	ChangeStore // the changes feed reads the same events
	IncidentEvents(ctx context.Context, after int64, limit int) ([]geo.IncidentEvent, error)
	LatestEventID(ctx context.Context) (int64, error)
	PruneEvents(ctx context.Context, keep time.Duration) error
	WatchEvents(ctx context.Context, onEvent func(), onCollection func(id string), onConnection func(up bool)) error
}

// Live update tuning.
const (
	sseHeartbeat     = 15 * time.Second
	sseRingSize      = 2048 // recent events kept in memory; a client further behind is dropped
	sseBacklogLimit  = 1000
	sseWriteDeadline = 10 * time.Second
	eventPoll        = 5 * time.Second // safety net if a NOTIFY is ever missed
)

// eventHub fans incident events out to this instance's SSE clients. Each
// instance reads events from PostgreSQL, woken by NOTIFY, so every instance
// delivers every event whichever instance wrote it. Events go into a ring
// of recent events that each client reads at its own pace: a burst does
// not drop a client that keeps up, and a client that falls more than the
// ring behind is dropped without holding anyone back.
type eventHub struct {
	store        EventStore
	maxClients   int
	maxPerClient int           // streams one client address may hold
	keep         time.Duration // events older than this are pruned (Config.ChangesKeep)

	mu      sync.Mutex
	ring    []geo.IncidentEvent // ascending ids, at most sseRingSize
	evicted int64               // id of the newest event dropped from the ring
	last    int64               // newest event id seen
	changed chan struct{}       // closed when events are appended
	clients int
	perIP   map[string]int // open streams per client address
	closed  chan struct{}
	wakeCh  chan struct{}
}

// errTooSlow says a client fell out of the ring.
var errTooSlow = errors.New("client fell too far behind")

func newEventHub(store EventStore, maxClients, maxPerClient int) *eventHub {
	return &eventHub{store: store, maxClients: maxClients, maxPerClient: maxPerClient, changed: make(chan struct{}),
		perIP: map[string]int{}, closed: make(chan struct{}), wakeCh: make(chan struct{}, 1)}
}

func (h *eventHub) wake() {
	select {
	case h.wakeCh <- struct{}{}:
	default:
	}
}

// run listens and broadcasts until ctx ends; versions hears of changed
// collections through the same listener.
func (h *eventHub) run(ctx context.Context, versions *versionCache, logger interface{ Warn(string, ...any) }) {
	go func() {
		for ctx.Err() == nil {
			if err := h.store.WatchEvents(ctx, h.wake, versions.changed, versions.connection); err != nil {
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
			if err := h.store.PruneEvents(ctx, h.keep); err != nil {
				logger.Warn("prune incident events", "err", err)
			}
			continue
		}
		if err := h.fetchNew(ctx); err != nil && ctx.Err() == nil {
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

// fetchNew appends every event newer than the last one to the ring.
func (h *eventHub) fetchNew(ctx context.Context) error {
	for {
		h.mu.Lock()
		after := h.last
		h.mu.Unlock()
		events, err := h.store.IncidentEvents(ctx, after, sseBacklogLimit)
		if err != nil || len(events) == 0 {
			return err
		}
		h.mu.Lock()
		h.ring = append(h.ring, events...)
		if over := len(h.ring) - sseRingSize; over > 0 {
			h.evicted = h.ring[over-1].ID
			h.ring = append(h.ring[:0:0], h.ring[over:]...)
		}
		h.last = events[len(events)-1].ID
		close(h.changed)
		h.changed = make(chan struct{})
		h.mu.Unlock()
		if len(events) < sseBacklogLimit {
			return nil
		}
	}
}

// Outcomes of subscribe.
const (
	subscribed = iota
	hubFull    // the instance has maxClients streams
	clientFull // this address has maxPerClient streams
)

// subscribe registers a stream of the client at addr and returns the id it
// starts after. One address may not take every slot: past maxPerClient it
// is refused while others can still connect.
func (h *eventHub) subscribe(addr string) (start int64, outcome int) {
	h.mu.Lock()
	defer h.mu.Unlock()
	switch {
	case h.perIP[addr] >= h.maxPerClient:
		return 0, clientFull
	case h.clients >= h.maxClients:
		return 0, hubFull
	}
	h.clients++
	h.perIP[addr]++
	return h.last, subscribed
}

func (h *eventHub) unsubscribe(addr string) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.clients--
	if h.perIP[addr]--; h.perIP[addr] <= 0 {
		delete(h.perIP, addr)
	}
}

// since returns the events after id, or a channel closed when there are
// new ones. errTooSlow when events after id already left the ring.
func (h *eventHub) since(id int64) ([]geo.IncidentEvent, <-chan struct{}, error) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if id >= h.last {
		return nil, h.changed, nil
	}
	if id < h.evicted {
		return nil, nil, errTooSlow
	}
	i := sort.Search(len(h.ring), func(i int) bool { return h.ring[i].ID > id })
	return append([]geo.IncidentEvent(nil), h.ring[i:min(len(h.ring), i+256)]...), nil, nil
}

// count is the number of connected clients.
func (h *eventHub) count() int {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.clients
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
	resume, err := lastEventID(c)
	if err != nil {
		return err
	}
	addr := c.RealIP()
	current, outcome := s.hub.subscribe(addr)
	switch outcome {
	case clientFull:
		c.Response().Header().Set("Retry-After", "30")
		return refuse(geo.ErrRateLimited,
			fmt.Sprintf("too many live streams from your address (at most %d); close one or retry later", s.cfg.MaxSSEPerClient))
	case hubFull:
		c.Response().Header().Set("Retry-After", "30")
		return refuse(errBusy, "too many live clients; retry later")
	}
	defer s.hub.unsubscribe(addr)

	st := s.startStream(c.Response())
	if err := st.send(func(w *bufio.Writer) { fmt.Fprintf(w, "retry: 3000\n: connected\n\n") }); err != nil {
		return nil
	}
	ctx := c.Request().Context()
	if err := s.sendBacklog(ctx, st, resume, current); err != nil {
		return nil // the client reconnects and resumes
	}
	s.follow(ctx, st, current)
	return nil
}

// lastEventID is where a reconnecting client resumes: the Last-Event-ID
// header, else the last_event_id parameter; -1 when it gives neither.
func lastEventID(c echo.Context) (int64, error) {
	v := c.Request().Header.Get("Last-Event-ID")
	if v == "" {
		v = c.QueryParam("last_event_id")
	}
	if v == "" {
		return -1, nil
	}
	n, err := strconv.ParseInt(v, 10, 64)
	if err != nil || n < 0 {
		return 0, geo.Invalidf("Last-Event-ID", "want an event id")
	}
	return n, nil
}

// eventStream is one client's open event stream.
type eventStream struct {
	w  *bufio.Writer
	rc *http.ResponseController
}

// startStream writes the stream's headers.
func (s *Server) startStream(res *echo.Response) *eventStream {
	res.Header().Set(echo.HeaderContentType, "text/event-stream")
	res.Header().Set("Cache-Control", "no-store")
	res.Header().Set("X-Accel-Buffering", "no") // nginx: do not buffer the stream
	// When the stream ends (dropped, shutdown) the connection goes too: a
	// client must notice and reconnect, not sit on a quiet keep-alive.
	res.Header().Set("Connection", "close")
	rc := http.NewResponseController(res.Writer)
	// The stream outlives the server's WriteTimeout; each write gets its own.
	if err := rc.SetWriteDeadline(time.Time{}); err != nil {
		s.logger.Warn("sse: cannot clear write deadline", "err", err)
	}
	res.WriteHeader(http.StatusOK)
	return &eventStream{w: bufio.NewWriter(res), rc: rc}
}

// send writes and flushes within sseWriteDeadline.
func (st *eventStream) send(write func(w *bufio.Writer)) error {
	_ = st.rc.SetWriteDeadline(time.Now().Add(sseWriteDeadline))
	write(st.w)
	if err := st.w.Flush(); err != nil {
		return err
	}
	return st.rc.Flush()
}

// sendBacklog sends the events after resume up to current, where the hub
// takes over, a page at a time: a client that was away for long (events
// are kept for days, Config.ChangesKeep) misses none in between.
func (s *Server) sendBacklog(ctx context.Context, st *eventStream, resume, current int64) error {
	for after := resume; resume >= 0 && after < current; {
		backlog, err := s.deps.Events.IncidentEvents(ctx, after, sseBacklogLimit)
		if err != nil {
			return err
		}
		for _, e := range backlog {
			if e.ID > current {
				break // the hub delivers these
			}
			if err := st.send(func(w *bufio.Writer) { writeEvent(w, e) }); err != nil {
				return err
			}
			after = e.ID
		}
		if len(backlog) < sseBacklogLimit || backlog[len(backlog)-1].ID > current {
			break
		}
	}
	return nil
}

// follow sends the hub's events after sent, with heartbeats, until the
// client goes, falls too far behind (dropped; it may reconnect with
// Last-Event-ID) or the server shuts down.
func (s *Server) follow(ctx context.Context, st *eventStream, sent int64) {
	heartbeat := time.NewTicker(sseHeartbeat)
	defer heartbeat.Stop()
	for {
		events, wait, err := s.hub.since(sent)
		if err != nil {
			return
		}
		for _, e := range events {
			if err := st.send(func(w *bufio.Writer) { writeEvent(w, e) }); err != nil {
				return
			}
			sent = e.ID
		}
		if wait == nil {
			continue
		}
		select {
		case <-wait:
		case <-heartbeat.C:
			if err := st.send(func(w *bufio.Writer) { fmt.Fprint(w, ": ping\n\n") }); err != nil {
				return
			}
		case <-s.hub.closed:
			return
		case <-ctx.Done():
			return
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
