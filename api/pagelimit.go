package api

import (
	"fmt"
	"sync"

	"github.com/labstack/echo/v4"

	"github.com/incidentmap/incidentmap/geo"
)

// bigPageLimit is the page size from which a request counts as a large
// page: it costs the database and the spool far more than a map view.
const bigPageLimit = 1000

// pageLimiter caps the large pages one client address may have in flight,
// so a single client cannot occupy the database with them.
type pageLimiter struct {
	perClient int

	mu      sync.Mutex
	running map[string]int
}

func newPageLimiter(perClient int) *pageLimiter {
	return &pageLimiter{perClient: perClient, running: map[string]int{}}
}

// acquire admits a page of limit features for the client of c, or answers
// 429 with Retry-After. The returned func releases it.
func (l *pageLimiter) acquire(c echo.Context, limit int) (release func(), err error) {
	addr := c.RealIP()
	if limit < bigPageLimit {
		return func() {}, nil
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.running[addr] >= l.perClient {
		c.Response().Header().Set("Retry-After", "2")
		return nil, refuse(geo.ErrRateLimited,
			fmt.Sprintf("at most %d pages of %d or more features at a time from one address; wait for one to finish", l.perClient, bigPageLimit))
	}
	l.running[addr]++
	return func() {
		l.mu.Lock()
		defer l.mu.Unlock()
		if l.running[addr]--; l.running[addr] <= 0 {
			delete(l.running, addr)
		}
	}, nil
}
