package api

import (
	"bytes"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"

	"github.com/labstack/echo/v4"
)

// A spool gives back exactly what was written, whether it stayed in
// memory or moved to a file, and returns its share of the memory budget.
func TestSpoolRoundTrip(t *testing.T) {
	base := spoolInMemory.Load()
	for _, size := range []int{0, 10, spoolMemory - 1, spoolMemory + 1, 3*spoolMemory + 7} {
		var s spool
		var want bytes.Buffer
		chunk := strings.Repeat("x", 1999) + ","
		for want.Len() < size {
			part := chunk[:min(len(chunk), size-want.Len())]
			want.WriteString(part)
			if _, err := s.WriteString(part); err != nil {
				t.Fatal(err)
			}
		}
		if s.Len() != int64(size) {
			t.Errorf("size %d: Len %d, want %d", size, s.Len(), size)
		}
		if inFile := s.file != nil; inFile != (size > spoolMemory) {
			t.Errorf("size %d: in a file %v, want %v", size, inFile, size > spoolMemory)
		}
		var got bytes.Buffer
		if _, err := s.WriteTo(&got); err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(got.Bytes(), want.Bytes()) {
			t.Errorf("size %d: read back %d bytes differing from the %d written", size, got.Len(), want.Len())
		}
		s.Close()
		if n := spoolInMemory.Load(); n != base {
			t.Errorf("size %d: %d bytes of the memory budget still reserved after Close, want %d", size, n, base)
		}
	}
}

// With the budget taken by other responses, a spool goes to a file at once.
func TestSpoolBudget(t *testing.T) {
	spoolInMemory.Add(spoolBudget)
	defer spoolInMemory.Add(-spoolBudget)
	var s spool
	defer s.Close()
	if _, err := s.WriteString("small"); err != nil {
		t.Fatal(err)
	}
	if s.file == nil {
		t.Error("spool kept a small body in memory beyond the budget, want a file")
	}
	var got bytes.Buffer
	if _, err := s.WriteTo(&got); err != nil || got.String() != "small" {
		t.Errorf("read back %q (%v), want %q", got.String(), err, "small")
	}
}

// A page that went to a file reaches the client whole through the
// response's ReadFrom (sendfile), and echo counts its bytes.
func TestSpoolFileToClient(t *testing.T) {
	spoolInMemory.Add(spoolBudget) // the budget is taken: the page goes to a file
	defer spoolInMemory.Add(-spoolBudget)
	body := strings.Repeat("0123456789", 350_000) // 3.5 MB: several ReadFrom steps
	sizes := make(chan int64, 1)                  // the handler may still run when the client has read the body
	e := echo.New()
	e.GET("/", func(c echo.Context) error {
		var s spool
		defer s.Close()
		if _, err := s.WriteString(body); err != nil {
			return err
		}
		if s.file == nil {
			t.Error("spool kept the page in memory beyond the budget, want a file")
		}
		res := c.Response()
		res.Header().Set(echo.HeaderContentLength, strconv.FormatInt(s.Len(), 10))
		res.WriteHeader(http.StatusOK)
		_, err := s.WriteTo(perWriteDeadline{res: res, rc: http.NewResponseController(res.Writer)})
		sizes <- res.Size
		return err
	})
	srv := httptest.NewServer(e)
	defer srv.Close()
	resp, err := http.Get(srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	got, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	if string(got) != body {
		t.Errorf("got %d bytes differing from the %d spooled", len(got), len(body))
	}
	if size := <-sizes; size != int64(len(body)) {
		t.Errorf("echo counted %d bytes written, want %d", size, len(body))
	}
}

// WriteByte keeps the bytes in order in memory and after a move to a
// file, and costs no allocation in memory (one per feature of a page
// otherwise).
func TestSpoolWriteByte(t *testing.T) {
	var s spool
	defer s.Close()
	var want bytes.Buffer
	write := func(p string, c byte) {
		want.WriteString(p)
		want.WriteByte(c)
		if _, err := s.WriteString(p); err != nil {
			t.Fatal(err)
		}
		if err := s.WriteByte(c); err != nil {
			t.Fatal(err)
		}
	}
	write("[1", ',')
	if allocs := testing.AllocsPerRun(100, func() { write("2", ',') }); allocs != 0 {
		t.Errorf("WriteByte in memory: %.1f allocations per call, want 0", allocs)
	}
	write(strings.Repeat("x", spoolMemory), ',') // moves to a file
	if s.file == nil {
		t.Fatalf("a spool past %d bytes is still in memory", spoolMemory)
	}
	write("3", ']')
	if s.Len() != int64(want.Len()) {
		t.Errorf("Len %d, want %d", s.Len(), want.Len())
	}
	var got bytes.Buffer
	if _, err := s.WriteTo(&got); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got.Bytes(), want.Bytes()) {
		t.Errorf("read back %d bytes differing from the %d written", got.Len(), want.Len())
	}
}
