package postgis

import (
	"context"
	"database/sql"
	"fmt"
	"strings"
)

// beginBulk starts the transaction of a bulk load (places, countries,
// borders): it takes as long as its data needs, so the session's
// request-sized statement timeout and the pool's read stall are lifted;
// the caller's context stays its deadline. On a loaded machine one batch of
// a load can exceed a request's 30 s without anything being wrong.
func (db *DB) beginBulk(ctx context.Context) (context.Context, *sql.Tx, error) {
	ctx = withLongStatements(ctx)
	tx, err := db.db.BeginTx(ctx, nil)
	if err != nil {
		return ctx, nil, mapError(err)
	}
	if _, err := tx.ExecContext(ctx, `SET LOCAL statement_timeout = 0`); err != nil {
		tx.Rollback()
		return ctx, nil, mapError(err)
	}
	return ctx, tx, nil
}

// analyzeBulk refreshes the planner's statistics of tables a bulk load has
// just rewritten, under the same lifted timeout. tables are constants.
func (db *DB) analyzeBulk(ctx context.Context, tables ...string) error {
	ctx, tx, err := db.beginBulk(ctx)
	if err != nil {
		return fmt.Errorf("analyze: %w", err)
	}
	defer tx.Rollback()
	if _, err := tx.ExecContext(ctx, `ANALYZE `+strings.Join(tables, ", ")); err != nil {
		return fmt.Errorf("analyze: %w", mapError(err))
	}
	return commit(ctx, tx)
}
