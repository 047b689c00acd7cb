package localpg

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"time"
)

// basebackup copies the running primary into c's data dir as a streaming
// standby (pg_basebackup -R writes standby.signal and primary_conninfo),
// unless the data dir already holds a cluster.
func (c *Cluster) basebackup(ctx context.Context, primary *Cluster, noSync bool) error {
	if _, err := os.Stat(filepath.Join(c.dataDir, "PG_VERSION")); err == nil {
		return nil
	} else if !errors.Is(err, os.ErrNotExist) {
		return fmt.Errorf("localpg: data dir: %w", err)
	}
	begin := time.Now()
	args := []string{"-D", c.dataDir, "-h", primary.sockDir, "-p", strconv.Itoa(Port), "-U", "postgres",
		"-X", "stream", "-R", "--checkpoint=fast"}
	if noSync {
		args = append(args, "--no-sync")
	}
	cmd := c.command("pg_basebackup", args...)
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := runCtx(ctx, cmd); err != nil {
		return fmt.Errorf("localpg: pg_basebackup of %s into %s: %w\n%s", primary.dataDir, c.dataDir, err, lastLines(out.Bytes(), 10))
	}
	c.log.Info("pg_basebackup done", "dir", c.dataDir, "primary", primary.dataDir, "took", time.Since(begin).Round(time.Millisecond))
	return nil
}
