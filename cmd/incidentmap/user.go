package main

import (
	"context"
	"fmt"
	"text/tabwriter"
	"time"
)

func runUser(ctx context.Context, env *environment, args []string) error {
	var cfg dbConfig
	var role string
	fs := newFlagSet(env, "user", "user [flags] add NAME [--role moderator|admin] | list | revoke NAME")
	cfg.register(fs, env)
	fs.StringVar(&role, "role", "moderator", "role of a new user: moderator or admin")
	rest, err := parseInterspersed(fs, args)
	if err != nil {
		return err
	}
	if len(rest) == 0 {
		fs.Usage()
		return fmt.Errorf("%w: want add, list or revoke", errUsage)
	}
	action := rest[0]
	want := map[string]int{"add": 2, "list": 1, "revoke": 2}[action]
	if want == 0 {
		return fmt.Errorf("unknown action %q: want add, list or revoke", action)
	}
	if len(rest) != want {
		return fmt.Errorf("%s: wrong number of arguments (see --help)", action)
	}
	db, err := openMigrated(ctx, env, cfg)
	if err != nil {
		return err
	}
	defer db.Close()
	switch action {
	case "add":
		u, token, err := db.CreateUser(ctx, rest[1], role, nil)
		if err != nil {
			return err
		}
		fmt.Fprintf(env.stdout, "added %s %s (id %d)\ntoken (shown only now; keep it secret): %s\n", u.Role, u.Name, u.ID, token)
		return nil
	case "revoke":
		if err := db.RevokeUser(ctx, rest[1], nil); err != nil {
			return err
		}
		fmt.Fprintf(env.stdout, "revoked %s\n", rest[1])
		return nil
	}
	users, err := db.Users(ctx)
	if err != nil {
		return err
	}
	tw := tabwriter.NewWriter(env.stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "ID\tNAME\tROLE\tCREATED\tREVOKED")
	for _, u := range users {
		revoked := "-"
		if u.RevokedAt != nil {
			revoked = u.RevokedAt.UTC().Format(time.RFC3339)
		}
		fmt.Fprintf(tw, "%d\t%s\t%s\t%s\t%s\n", u.ID, u.Name, u.Role, u.CreatedAt.UTC().Format(time.RFC3339), revoked)
	}
	return tw.Flush()
}
