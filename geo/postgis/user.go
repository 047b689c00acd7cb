package postgis

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"database/sql"
	"encoding/base64"
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/incidentmap/incidentmap/geo"
)

// tokenPrefix marks incidentmap tokens so they are recognisable in logs
// and secret scanners.
const tokenPrefix = "imt_"

// CreateUser adds a user and returns its bearer token, shown only once:
// only the SHA-256 of the token's secret is stored. by is the acting user
// (nil for the command line), recorded in the audit log.
func (db *DB) CreateUser(ctx context.Context, name, role string, by *geo.User) (geo.User, string, error) {
	if err := geo.ValidateUser(name, role); err != nil {
		return geo.User{}, "", err
	}
	secret := make([]byte, 32)
	if _, err := rand.Read(secret); err != nil {
		return geo.User{}, "", fmt.Errorf("generate token: %w", err)
	}
	secretText := base64.RawURLEncoding.EncodeToString(secret)
	hash := sha256.Sum256([]byte(secretText))
	u := geo.User{Name: name, Role: role}
	err := db.inTx(ctx, func(tx *sql.Tx) error {
		err := tx.QueryRowContext(ctx, `INSERT INTO users (name, role, token_hash) VALUES ($1, $2, $3) RETURNING id, created_at`,
			name, role, hash[:]).Scan(&u.ID, &u.CreatedAt)
		if err != nil {
			return fmt.Errorf("create user %s: %w", name, mapError(err))
		}
		return audit(ctx, tx, by, "user.add", "user", u.ID, nil, map[string]any{"name": name, "role": role}, "")
	})
	if err != nil {
		return geo.User{}, "", err
	}
	return u, tokenPrefix + strconv.FormatInt(u.ID, 10) + "_" + secretText, nil
}

// Authenticate returns the active user a bearer token belongs to, or
// ErrUnauthorized. The stored hash is compared in constant time.
func (db *DB) Authenticate(ctx context.Context, token string) (geo.User, error) {
	rest, ok := strings.CutPrefix(token, tokenPrefix)
	idText, secret, ok2 := strings.Cut(rest, "_")
	id, err := strconv.ParseInt(idText, 10, 64)
	if !ok || !ok2 || err != nil || id <= 0 || len(secret) != 43 {
		return geo.User{}, geo.ErrUnauthorized
	}
	var (
		u    geo.User
		hash []byte
	)
	err = db.db.QueryRowContext(ctx, `SELECT id, name, role, created_at, token_hash FROM users WHERE id = $1 AND revoked_at IS NULL`, id).
		Scan(&u.ID, &u.Name, &u.Role, &u.CreatedAt, &hash)
	want := sha256.Sum256([]byte(secret))
	if errors.Is(err, sql.ErrNoRows) {
		subtle.ConstantTimeCompare(want[:], want[:]) // same work whether or not the user exists
		return geo.User{}, geo.ErrUnauthorized
	}
	if err != nil {
		return geo.User{}, fmt.Errorf("authenticate: %w", mapError(err))
	}
	if subtle.ConstantTimeCompare(hash, want[:]) != 1 {
		return geo.User{}, geo.ErrUnauthorized
	}
	return u, nil
}

// Users lists every user, revoked ones included.
func (db *DB) Users(ctx context.Context) ([]geo.User, error) {
	rows, err := db.db.QueryContext(ctx, `SELECT id, name, role, created_at, revoked_at FROM users ORDER BY id`)
	if err != nil {
		return nil, mapError(err)
	}
	defer rows.Close()
	var users []geo.User
	for rows.Next() {
		var u geo.User
		if err := rows.Scan(&u.ID, &u.Name, &u.Role, &u.CreatedAt, &u.RevokedAt); err != nil {
			return nil, mapError(err)
		}
		users = append(users, u)
	}
	return users, mapError(rows.Err())
}

// RevokeUser revokes a user's token by name. Returns ErrNotFound for an
// unknown or already revoked user.
func (db *DB) RevokeUser(ctx context.Context, name string, by *geo.User) error {
	return db.inTx(ctx, func(tx *sql.Tx) error {
		var id int64
		err := tx.QueryRowContext(ctx, `UPDATE users SET revoked_at = now() WHERE name = $1 AND revoked_at IS NULL RETURNING id`, name).Scan(&id)
		if err != nil {
			return fmt.Errorf("revoke user %s: %w", name, mapError(err))
		}
		return audit(ctx, tx, by, "user.revoke", "user", id, nil, nil, "")
	})
}

// inTx runs fn in a transaction, committing when it returns nil.
func (db *DB) inTx(ctx context.Context, fn func(*sql.Tx) error) error {
	tx, err := db.db.BeginTx(ctx, nil)
	if err != nil {
		return mapError(err)
	}
	defer tx.Rollback()
	if err := fn(tx); err != nil {
		return err
	}
	if err := commit(ctx, tx); err != nil {
		return fmt.Errorf("commit: %w", mapError(err))
	}
	return nil
}
