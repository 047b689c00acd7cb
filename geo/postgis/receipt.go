package postgis

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/hex"
	"fmt"
	"strconv"

	"github.com/incidentmap/incidentmap/geo"
)

// receiptTokenBytes is the length of a receipt token before hex: 128 bits,
// beyond guessing.
const receiptTokenBytes = 16

// ReceiptToken returns the secret a report's receipt carries to read its
// status: a keyed hash (the instance's client_hash_key, which never leaves
// the database) of the report id. It is derived, not stored, so a replayed
// submission (same Idempotency-Key) gets the same token, every instance
// computes the same one, and no table grows a column of secrets.
func (db *DB) ReceiptToken(ctx context.Context, reportID int64) (string, error) {
	var key string
	if err := db.db.QueryRowContext(ctx, `SELECT value FROM settings WHERE name = 'client_hash_key'`).Scan(&key); err != nil {
		return "", fmt.Errorf("read receipt key: %w", mapError(err))
	}
	m := hmac.New(sha256.New, []byte(key))
	m.Write([]byte("report-receipt:" + strconv.FormatInt(reportID, 10)))
	return hex.EncodeToString(m.Sum(nil)[:receiptTokenBytes]), nil
}

// ReceiptStatus returns the public status of report reportID (geo.Receipt*)
// when token is its receipt's; geo.ErrNotFound otherwise, the same for a
// wrong token as for a report that does not exist, so that the answer
// tells nothing about which ids exist.
func (db *DB) ReceiptStatus(ctx context.Context, reportID int64, token string) (string, error) {
	want, err := db.ReceiptToken(ctx, reportID)
	if err != nil {
		return "", err
	}
	if subtle.ConstantTimeCompare([]byte(want), []byte(token)) != 1 {
		return "", fmt.Errorf("report receipt: %w", geo.ErrNotFound)
	}
	var status string
	if err := db.db.QueryRowContext(ctx, `SELECT status FROM reports WHERE id = $1`, reportID).Scan(&status); err != nil {
		return "", fmt.Errorf("report receipt: %w", mapError(err))
	}
	return geo.ReceiptStatus(status), nil
}
