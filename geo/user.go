package geo

import (
	"regexp"
	"time"
)

// User roles. Admins can do everything moderators can, plus manage users
// and read the audit log.
const (
	RoleModerator = "moderator"
	RoleAdmin     = "admin"
)

// User is a moderator or admin. Only a hash of the token is stored.
type User struct {
	ID        int64
	Name      string
	Role      string
	CreatedAt time.Time
	RevokedAt *time.Time
}

var userNameRe = regexp.MustCompile(`^[A-Za-z0-9._-]{1,64}$`)

// ValidateUser checks a new user's name and role.
func ValidateUser(name, role string) error {
	v := &ValidationError{}
	if !userNameRe.MatchString(name) {
		v.Add("name", "1 to 64 letters, digits, '.', '_' or '-'")
	}
	if role != RoleModerator && role != RoleAdmin {
		v.Add("role", "want moderator or admin")
	}
	return v.Err()
}

// AuditEntry is one record of the append-only audit log.
type AuditEntry struct {
	ID         int64     `json:"id"`
	At         time.Time `json:"at"`
	UserName   string    `json:"user"`
	Action     string    `json:"action"`
	TargetType string    `json:"target_type"`
	TargetID   int64     `json:"target_id"`
	Before     any       `json:"before,omitempty"`
	After      any       `json:"after,omitempty"`
	Note       string    `json:"note,omitempty"`
}

// AuditFilter selects audit entries.
type AuditFilter struct {
	TargetType string // "" for all
	TargetID   int64  // 0 for all
	Limit      int
	Before     int64 // entries with id < Before; 0 for the newest
}
