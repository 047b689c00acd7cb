package api

import (
	"database/sql"
	"strconv"
	"time"

	"github.com/labstack/echo/v4"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// PoolStats reports the database pool, for metrics.
type PoolStats interface {
	Stats() sql.DBStats
}

// metrics are one server's Prometheus collectors, in a registry of its own
// (no package-level state: tests run many servers in one process).
type metrics struct {
	registry *prometheus.Registry
	requests *prometheus.CounterVec
	latency  *prometheus.HistogramVec
	reports  *prometheus.CounterVec
}

func newMetrics(s *Server) *metrics {
	m := &metrics{
		registry: prometheus.NewRegistry(),
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "incidentmap_http_requests_total", Help: "HTTP requests by route, method and status.",
		}, []string{"route", "method", "status"}),
		latency: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name: "incidentmap_http_request_duration_seconds", Help: "HTTP request latency by route and method.",
			Buckets: []float64{.001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10},
		}, []string{"route", "method"}),
		reports: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "incidentmap_reports_total", Help: "Report submissions by outcome: accepted, replayed, invalid, rate_limited.",
		}, []string{"outcome"}),
	}
	m.registry.MustRegister(m.requests, m.latency, m.reports,
		collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}),
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{
			Name: "incidentmap_sse_clients", Help: "Connected live-update (SSE) clients.",
		}, func() float64 { return float64(s.hub.count()) }),
	)
	if pool, ok := s.deps.Ready.(PoolStats); ok {
		gauge := func(name, help string, f func(sql.DBStats) float64) prometheus.Collector {
			return prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "incidentmap_db_" + name, Help: help},
				func() float64 { return f(pool.Stats()) })
		}
		m.registry.MustRegister(
			gauge("connections_open", "Open database connections.", func(st sql.DBStats) float64 { return float64(st.OpenConnections) }),
			gauge("connections_in_use", "Database connections in use.", func(st sql.DBStats) float64 { return float64(st.InUse) }),
			gauge("connections_idle", "Idle database connections.", func(st sql.DBStats) float64 { return float64(st.Idle) }),
			gauge("wait_count", "Requests that waited for a connection, since start.", func(st sql.DBStats) float64 { return float64(st.WaitCount) }),
			gauge("wait_seconds", "Total time waited for connections, since start.", func(st sql.DBStats) float64 { return st.WaitDuration.Seconds() }),
		)
	}
	return m
}

// observe records every request by its route pattern (not its raw path,
// which would let clients create unbounded label values).
func (m *metrics) observe(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		start := time.Now()
		err := next(c)
		if err != nil {
			c.Error(err)
		}
		route := c.Path()
		if route == "" {
			route = "unmatched"
		}
		method := c.Request().Method
		m.requests.WithLabelValues(route, method, strconv.Itoa(c.Response().Status)).Inc()
		m.latency.WithLabelValues(route, method).Observe(time.Since(start).Seconds())
		return nil
	}
}

func (m *metrics) handler() echo.HandlerFunc {
	return echo.WrapHandler(promhttp.HandlerFor(m.registry, promhttp.HandlerOpts{}))
}
