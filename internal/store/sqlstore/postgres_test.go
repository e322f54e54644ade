package sqlstore

import (
	"context"
	"crypto/rand"
	"database/sql"
	"fmt"
	"net/url"
	"testing"
)

// freshPostgres creates a throw-away database next to the one dsn names and opens a Store on
// it, returning the database's URL too; the database is dropped when the test ends.
func freshPostgres(tb testing.TB, dsn string) (*Store, string) {
	tb.Helper()
	u := emptyPostgres(tb, dsn)
	s, err := OpenPostgres(context.Background(), u)
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { s.Close() })
	return s, u
}

// emptyPostgres creates a throw-away database next to the one dsn names and returns its URL;
// the database is dropped when the test ends.
func emptyPostgres(tb testing.TB, dsn string) string {
	tb.Helper()
	admin, err := sql.Open("pgx", dsn)
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { admin.Close() })
	name := fmt.Sprintf("sigil_test_%x", rand.Text()[:12])
	if _, err := admin.Exec(`CREATE DATABASE ` + name); err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { admin.Exec(`DROP DATABASE ` + name + ` WITH (FORCE)`) })
	u, err := url.Parse(dsn)
	if err != nil {
		tb.Fatal(err)
	}
	u.Path = "/" + name
	return u.String()
}
