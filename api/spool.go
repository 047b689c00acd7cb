package api

import (
	"bytes"
	"fmt"
	"io"
	"os"
)

// spoolMemory is how much of a response a spool keeps in memory before it
// moves to a temporary file.
const spoolMemory = 1 << 20

// spool holds a response body between the database and the client, so the
// database connection is released when the query ends rather than when a
// slow (or stalled) client has read the last byte. Small bodies stay in
// memory; larger ones go to an unlinked temporary file, so memory stays
// flat however large the page.
type spool struct {
	mem  bytes.Buffer
	file *os.File
	size int64
}

// Write implements io.Writer.
func (s *spool) Write(p []byte) (int, error) {
	s.size += int64(len(p))
	if s.file == nil && s.mem.Len()+len(p) <= spoolMemory {
		return s.mem.Write(p)
	}
	if s.file == nil {
		f, err := os.CreateTemp("", "incidentmap-response-*")
		if err != nil {
			return 0, fmt.Errorf("spool response: %w", err)
		}
		// Unlinked at once: the space is freed when the file closes,
		// even if the process dies.
		os.Remove(f.Name())
		s.file = f
		if _, err := s.mem.WriteTo(f); err != nil {
			return 0, fmt.Errorf("spool response: %w", err)
		}
	}
	n, err := s.file.Write(p)
	if err != nil {
		err = fmt.Errorf("spool response: %w", err)
	}
	return n, err
}

// Len is the number of bytes written.
func (s *spool) Len() int64 { return s.size }

// WriteTo copies everything written to w.
func (s *spool) WriteTo(w io.Writer) (int64, error) {
	if s.file == nil {
		return s.mem.WriteTo(w)
	}
	if _, err := s.file.Seek(0, io.SeekStart); err != nil {
		return 0, fmt.Errorf("rewind spooled response: %w", err)
	}
	return io.Copy(w, s.file)
}

// Close releases the temporary file, if any.
func (s *spool) Close() error {
	if s.file == nil {
		return nil
	}
	return s.file.Close()
}
