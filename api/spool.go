package api

import (
	"bufio"
	"fmt"
	"io"
	"os"
	"sync"
	"sync/atomic"
)

// spoolMemory is how much of a response a spool keeps in memory before it
// moves to a temporary file. A temporary file costs more than the page's
// own JSON work in Go (measured: a 2 MB page took 8.8 ms of server CPU
// through a file, 6.2 ms in memory), so pages up to a few MB stay in
// memory, within spoolBudget for all responses together. Larger pages go
// to a file and are sent from it with sendfile (perWriteDeadline.ReadFrom).
// Keeping 19 MB pages in memory too (32 MiB per page, 128-256 MiB budget)
// was tried: the server's CPU per such page fell by about 7%, within the
// noise of the throughput, and its peak RSS under 16 clients rose from
// 143 to 727-767 MiB, so they stay in files.
const spoolMemory = 4 << 20

// spoolBudget bounds the memory of all spools at once: past it, responses
// go to temporary files early, so many slow readers of mid-sized pages
// cannot hold more than this.
const spoolBudget = 64 << 20

// spoolPoolMax is the largest buffer kept for reuse.
const spoolPoolMax = spoolMemory

// spoolReserve is the step in which a spool takes memory from the budget.
const spoolReserve = 256 << 10

// spoolInMemory is the memory reserved by all spools (bytes).
var spoolInMemory atomic.Int64

// spoolBuffers recycles the memory of spools: growing a fresh buffer to a
// page's size on every request (and copying it at each doubling) cost a
// tenth of a small page's time. Only buffers up to spoolPoolMax go back
// to the pool, so it holds at most that per idle buffer.
var spoolBuffers = sync.Pool{New: func() any { b := make([]byte, 0, 64<<10); return &b }}

// spool holds a response body between the database and the client, so the
// database connection is released when the query ends rather than when a
// slow (or stalled) client has read the last byte. Small bodies stay in
// (pooled) memory; larger ones go to an unlinked temporary file, so memory
// stays flat however large the page. Call Close when done.
type spool struct {
	mem  *[]byte // from spoolBuffers; nil until the first write
	file *os.File
	fw   *bufio.Writer // buffers writes to file
	size int64
	// reserved is this spool's share of spoolBudget.
	reserved int64
}

// Write implements io.Writer.
func (s *spool) Write(p []byte) (int, error) {
	if s.fw == nil && s.buffer(len(p)) {
		*s.mem = append(*s.mem, p...)
		s.size += int64(len(p))
		return len(p), nil
	}
	if err := s.spill(); err != nil {
		return 0, err
	}
	n, err := s.fw.Write(p)
	s.size += int64(n)
	if err != nil {
		err = fmt.Errorf("spool response: %w", err)
	}
	return n, err
}

// WriteString implements io.StringWriter, saving a copy per call.
func (s *spool) WriteString(p string) (int, error) {
	if s.fw == nil && s.buffer(len(p)) {
		*s.mem = append(*s.mem, p...)
		s.size += int64(len(p))
		return len(p), nil
	}
	if err := s.spill(); err != nil {
		return 0, err
	}
	n, err := s.fw.WriteString(p)
	s.size += int64(n)
	if err != nil {
		err = fmt.Errorf("spool response: %w", err)
	}
	return n, err
}

// WriteByte implements io.ByteWriter, without the allocation a one-byte
// slice passed on to Write costs (one per feature of a page).
func (s *spool) WriteByte(c byte) error {
	if s.fw == nil && s.buffer(1) {
		*s.mem = append(*s.mem, c)
		s.size++
		return nil
	}
	if err := s.spill(); err != nil {
		return err
	}
	if err := s.fw.WriteByte(c); err != nil {
		return fmt.Errorf("spool response: %w", err)
	}
	s.size++
	return nil
}

// buffer reports whether n more bytes fit in memory, taking a buffer
// from the pool on first use.
func (s *spool) buffer(n int) bool {
	if s.mem == nil {
		s.mem = spoolBuffers.Get().(*[]byte)
	}
	need := int64(len(*s.mem) + n)
	if need > spoolMemory {
		return false
	}
	if need > s.reserved {
		grow := max(need-s.reserved, spoolReserve)
		if spoolInMemory.Add(grow) > spoolBudget {
			spoolInMemory.Add(-grow)
			return false
		}
		s.reserved += grow
	}
	if need > int64(cap(*s.mem)) {
		// Double, as bytes.Buffer does: append grows large slices by a
		// quarter, copying a 4 MiB body twenty times over.
		grown := make([]byte, len(*s.mem), min(max(2*int64(cap(*s.mem)), need), spoolMemory))
		copy(grown, *s.mem)
		*s.mem = grown
	}
	return true
}

// spill moves the body to an unlinked temporary file (once).
func (s *spool) spill() error {
	if s.fw != nil {
		return nil
	}
	f, err := os.CreateTemp("", "incidentmap-response-*")
	if err != nil {
		return fmt.Errorf("spool response: %w", err)
	}
	// Unlinked at once: the space is freed when the file closes, even if
	// the process dies.
	os.Remove(f.Name())
	s.file = f
	s.fw = bufio.NewWriterSize(f, 64<<10)
	if s.mem != nil {
		if _, err := s.fw.Write(*s.mem); err != nil {
			return fmt.Errorf("spool response: %w", err)
		}
		s.release()
	}
	return nil
}

// Len is the number of bytes written.
func (s *spool) Len() int64 { return s.size }

// WriteTo copies everything written to w.
func (s *spool) WriteTo(w io.Writer) (int64, error) {
	if s.fw == nil {
		if s.mem == nil {
			return 0, nil
		}
		n, err := w.Write(*s.mem)
		return int64(n), err
	}
	if err := s.fw.Flush(); err != nil {
		return 0, fmt.Errorf("spool response: %w", err)
	}
	if _, err := s.file.Seek(0, io.SeekStart); err != nil {
		return 0, fmt.Errorf("rewind spooled response: %w", err)
	}
	if rf, ok := w.(io.ReaderFrom); ok {
		return rf.ReadFrom(s.file) // the *os.File itself, so sendfile can take it
	}
	return io.Copy(w, s.file)
}

// release returns the memory buffer to the pool.
func (s *spool) release() {
	spoolInMemory.Add(-s.reserved)
	s.reserved = 0
	if s.mem == nil {
		return
	}
	if cap(*s.mem) <= spoolPoolMax {
		*s.mem = (*s.mem)[:0]
		spoolBuffers.Put(s.mem)
	}
	s.mem = nil
}

// Close releases the memory and the temporary file, if any.
func (s *spool) Close() error {
	s.release()
	if s.file == nil {
		return nil
	}
	return s.file.Close()
}
