// Package store keeps the bot's state in one SQLite file (modernc.org/sqlite,
// no cgo). It is the only package in the project that writes SQL.
//
// The rows are package research's domain types (research.Run,
// research.Experiment, ...) and DB implements research.Store: store imports
// research, never the reverse, and only cmd wires the two together.
//
// Times are written in UTC and read back in UTC; a zero time.Time is stored as
// NULL. Floats that are NaN or ±Inf are stored as 0.
package store

import (
	"context"
	"database/sql"
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"math"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/autoresearch/autoresearch/research"
	"modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"
)

//go:embed migrations/*.sql
var migrationFS embed.FS

// dsnParams are the connection settings every pooled connection gets.
// Pragmas go in the DSN so that each new connection of database/sql's pool is
// configured, not only the first one.
const dsnParams = "_pragma=journal_mode(WAL)" +
	"&_pragma=busy_timeout(10000)" +
	"&_pragma=foreign_keys(1)" +
	"&_pragma=synchronous(NORMAL)" +
	"&_txlock=immediate" +
	"&_time_format=sqlite"

// DB is the whole contract of the research loop.
var _ research.Store = (*DB)(nil)

// DB is the store. Set Now and Logger before use if the defaults do not fit.
type DB struct {
	db   *sql.DB
	path string

	ctx    context.Context // canceled by Close
	cancel context.CancelFunc
	once   sync.Once

	// Now returns the current time; tests replace it. Its result is
	// converted to UTC before it is stored.
	Now func() time.Time
	// Logger defaults to slog.Default().With("component", "store").
	Logger *slog.Logger
}

// Open opens (creating it and its parent directory if needed) the database at
// path and applies any migrations that have not been applied yet.
func Open(path string) (*DB, error) {
	if path == "" {
		return nil, errors.New("store: empty database path")
	}
	if strings.ContainsRune(path, '?') {
		return nil, fmt.Errorf("store: database path %q must not contain '?'", path)
	}
	if path != ":memory:" {
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			return nil, fmt.Errorf("store: create directory: %w", err)
		}
	}
	state := FileMissing
	if path != ":memory:" {
		var err error
		if state, err = Probe(path); err != nil {
			return nil, err
		}
	}
	sdb, err := sql.Open("sqlite", path+"?"+dsnParams)
	if err != nil {
		return nil, fmt.Errorf("store: open %s: %w", path, err)
	}
	if path == ":memory:" {
		// Every connection would get its own empty database otherwise.
		sdb.SetMaxOpenConns(1)
	}
	ctx, cancel := context.WithCancel(context.Background())
	db := &DB{
		db:     sdb,
		path:   path,
		ctx:    ctx,
		cancel: cancel,
		Now:    time.Now,
		Logger: slog.Default().With("component", "store"),
	}
	if state == FilePresent {
		if err := db.quickCheck(ctx); err != nil {
			cancel()
			_ = sdb.Close()
			return nil, err
		}
	}
	if err := db.migrate(ctx); err != nil {
		cancel()
		_ = sdb.Close()
		if err := db.damaged("migrating", err); errors.As(err, new(*DamagedError)) {
			return nil, err
		}
		return nil, fmt.Errorf("store: migrate %s: %w", path, err)
	}
	return db, nil
}

// Path returns the file the store was opened from.
func (db *DB) Path() string { return db.path }

// Close cancels background work and closes the database. It is safe to call
// more than once.
func (db *DB) Close() error {
	var err error
	db.once.Do(func() {
		db.cancel()
		err = db.db.Close()
	})
	return err
}

// migrate applies the embedded migrations in name order, each in its own
// transaction, and records them in the migrations table.
func (db *DB) migrate(ctx context.Context) error {
	if _, err := db.db.ExecContext(ctx,
		`CREATE TABLE IF NOT EXISTS migrations (name TEXT PRIMARY KEY, applied_at DATETIME NOT NULL)`); err != nil {
		return fmt.Errorf("create migrations table: %w", err)
	}
	names, err := fs.Glob(migrationFS, "migrations/*.sql")
	if err != nil {
		return err
	}
	sort.Strings(names)
	for _, name := range names {
		if err := db.migrateFile(ctx, name); err != nil {
			return fmt.Errorf("migration %s: %w", name, err)
		}
	}
	return nil
}

func (db *DB) migrateFile(ctx context.Context, name string) error {
	tx, err := db.db.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer tx.Rollback()

	var n int
	if err := tx.QueryRowContext(ctx, `SELECT COUNT(*) FROM migrations WHERE name = ?`, name).Scan(&n); err != nil {
		return err
	}
	if n > 0 {
		return nil
	}
	buf, err := fs.ReadFile(migrationFS, name)
	if err != nil {
		return err
	}
	if _, err := tx.ExecContext(ctx, string(buf)); err != nil {
		return err
	}
	if _, err := tx.ExecContext(ctx, `INSERT INTO migrations (name, applied_at) VALUES (?, ?)`, name, db.now()); err != nil {
		return err
	}
	if err := tx.Commit(); err != nil {
		return err
	}
	db.logger().Info("migration applied", "name", name, "path", db.path)
	return nil
}

// Migrations returns the names of the applied migrations, in order.
func (db *DB) Migrations(ctx context.Context) ([]string, error) {
	rows, err := db.db.QueryContext(ctx, `SELECT name FROM migrations ORDER BY name`)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var names []string
	for rows.Next() {
		var s string
		if err := rows.Scan(&s); err != nil {
			return nil, err
		}
		names = append(names, s)
	}
	return names, rows.Err()
}

// now returns Now() in UTC.
func (db *DB) now() time.Time {
	if db.Now == nil {
		return time.Now().UTC()
	}
	return db.Now().UTC()
}

func (db *DB) logger() *slog.Logger {
	if db.Logger == nil {
		return slog.Default().With("component", "store")
	}
	return db.Logger
}

// withTx runs fn in one (immediate) transaction and commits when it returns nil.
func (db *DB) withTx(ctx context.Context, fn func(tx *sql.Tx) error) error {
	tx, err := db.db.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	if err := fn(tx); err != nil {
		return err
	}
	return tx.Commit()
}

// queryer is what *sql.DB and *sql.Tx have in common.
type queryer interface {
	ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error)
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
}

// scanner is what *sql.Row and *sql.Rows have in common.
type scanner interface {
	Scan(dest ...any) error
}

// num makes a float safe to store: NaN and ±Inf become 0.
func num(f float64) float64 {
	if math.IsNaN(f) || math.IsInf(f, 0) {
		return 0
	}
	return f
}

// dbTime is the value written for t: NULL for the zero time, else t in UTC.
func dbTime(t time.Time) any {
	if t.IsZero() {
		return nil
	}
	return t.UTC()
}

// nullID is the value written for an optional foreign key: NULL for 0.
func nullID(id int64) any {
	if id == 0 {
		return nil
	}
	return id
}

// timeCol scans a DATETIME column (time.Time, text or NULL) into *T in UTC.
type timeCol struct{ T *time.Time }

var timeFormats = []string{
	"2006-01-02 15:04:05.999999999-07:00",
	"2006-01-02T15:04:05.999999999-07:00",
	"2006-01-02 15:04:05.999999999",
	"2006-01-02T15:04:05.999999999",
	"2006-01-02 15:04",
	"2006-01-02",
	time.RFC3339Nano,
}

func (c timeCol) Scan(v any) error {
	switch x := v.(type) {
	case nil:
		*c.T = time.Time{}
		return nil
	case time.Time:
		*c.T = x.UTC()
		return nil
	case string:
		return c.parse(x)
	case []byte:
		return c.parse(string(x))
	case int64:
		*c.T = time.Unix(x, 0).UTC()
		return nil
	}
	return fmt.Errorf("store: cannot scan %T into a time", v)
}

func (c timeCol) parse(s string) error {
	s = strings.TrimSpace(s)
	if s == "" {
		*c.T = time.Time{}
		return nil
	}
	for _, f := range timeFormats {
		if t, err := time.Parse(f, s); err == nil {
			*c.T = t.UTC()
			return nil
		}
	}
	return fmt.Errorf("store: cannot parse time %q", s)
}

// idCol scans a nullable integer column into *int64 (NULL -> 0).
type idCol struct{ P *int64 }

func (c idCol) Scan(v any) error {
	var n sql.NullInt64
	if err := n.Scan(v); err != nil {
		return err
	}
	*c.P = n.Int64
	return nil
}

// isUnique reports whether err is a UNIQUE or PRIMARY KEY constraint failure.
func isUnique(err error) bool {
	var se *sqlite.Error
	if errors.As(err, &se) {
		switch se.Code() {
		case sqlite3.SQLITE_CONSTRAINT_UNIQUE, sqlite3.SQLITE_CONSTRAINT_PRIMARYKEY:
			return true
		}
	}
	return false
}

// affected turns "no row changed" into ErrNotFound.
func affected(res sql.Result, what string, id int64) error {
	n, err := res.RowsAffected()
	if err != nil {
		return err
	}
	if n == 0 {
		return fmt.Errorf("store: %s %d: %w", what, id, research.ErrNotFound)
	}
	return nil
}

// notFound maps sql.ErrNoRows to a wrapped ErrNotFound.
func notFound(err error, format string, args ...any) error {
	if errors.Is(err, sql.ErrNoRows) {
		return fmt.Errorf("store: "+format+": %w", append(args, research.ErrNotFound)...)
	}
	return err
}
