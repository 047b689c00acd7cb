package postgis

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/lib/pq"
)

// Login roles for clusters the application manages itself (the embedded
// database, test harnesses): one per pool, each a member of exactly one of
// RolePublic and RoleModerator, so even arbitrary SQL on the public pool
// could not SET ROLE to the moderator.
const (
	LoginPublic    = "incidentmap_web"
	LoginModerator = "incidentmap_moderation"
)

// EnsureLoginRoles creates LoginPublic and LoginModerator without
// passwords (for clusters that only accept local trusted connections)
// unless they exist. It needs CREATEROLE and the migrated roles.
func (db *DB) EnsureLoginRoles(ctx context.Context) error {
	for login, group := range map[string]string{LoginPublic: RolePublic, LoginModerator: RoleModerator} {
		var exists bool
		if err := db.db.QueryRowContext(ctx, `SELECT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = $1)`, login).Scan(&exists); err != nil {
			return fmt.Errorf("look up role %s: %w", login, mapError(err))
		}
		if exists {
			continue
		}
		// Identifiers are this package's constants; CREATE ROLE takes no parameters.
		stmt := fmt.Sprintf("CREATE ROLE %s LOGIN IN ROLE %s", pq.QuoteIdentifier(login), pq.QuoteIdentifier(group))
		if _, err := db.db.ExecContext(ctx, stmt); err != nil && !isDuplicateObject(err) {
			return fmt.Errorf("create role %s: %w", login, mapError(err))
		}
	}
	return nil
}

func isDuplicateObject(err error) bool {
	var pqErr *pq.Error
	return errors.As(err, &pqErr) && (pqErr.Code == "42710" || pqErr.Code == "23505")
}

// PrivilegeWarnings lists ways this pool's login can reach beyond its
// Role: a superuser login, or a public pool whose login may switch to the
// moderator role. Statements are still bound to Role; these are the gaps
// that a way to run arbitrary SQL would open.
func (db *DB) PrivilegeWarnings(ctx context.Context) ([]string, error) {
	var login string
	var super, canModerate bool
	err := db.db.QueryRowContext(ctx, `
		SELECT session_user, r.rolsuper, pg_has_role(session_user, $1, 'MEMBER')
		FROM pg_roles r WHERE r.rolname = session_user`, RoleModerator).Scan(&login, &super, &canModerate)
	if err != nil {
		return nil, fmt.Errorf("read login role: %w", mapError(err))
	}
	var warnings []string
	if super {
		warnings = append(warnings, fmt.Sprintf("database login %q is a superuser; connect as a role that is only a member of %s (see docs/security.md)", login, RolePublic))
	} else if canModerate && db.role == RolePublic {
		warnings = append(warnings, fmt.Sprintf("database login %q of the public pool may switch to %s; give moderation its own login with DATABASE_MODERATION_URL (see docs/security.md)", login, RoleModerator))
	}
	return warnings, nil
}

// WithUser returns dsn (URL or keyword form) connecting as user instead,
// without a password: for the trusted local clusters LoginPublic and
// LoginModerator are made for.
func WithUser(dsn, user string) (string, error) {
	return withKeywords(dsn, "user="+user+" password=''")
}

// withKeywords appends keyword settings to dsn (URL or keyword form);
// lib/pq takes the last value of a repeated keyword.
func withKeywords(dsn, keywords string) (string, error) {
	kv := dsn
	if strings.HasPrefix(dsn, "postgres://") || strings.HasPrefix(dsn, "postgresql://") {
		var err error
		if kv, err = pq.ParseURL(dsn); err != nil {
			return "", fmt.Errorf("parse database url: %w", err)
		}
	}
	return kv + " " + keywords, nil
}
