package store

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"

	"modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"
)

// A store that is there but cannot be read must never be taken for a new
// one: that would number experiments from #1 again, over the old logs, and
// lose the run's history. Open refuses it with a DamagedError; callers that
// know more (a repository with run branches and logs) use Probe to refuse a
// 0-byte store too.

// DamagedError says that the store file exists but cannot be used, why, and
// what to do. Nothing was changed.
type DamagedError struct {
	Path   string
	Reason string // e.g. "not an SQLite database", "0 bytes", "quick_check: ..."
	Err    error
}

func (e *DamagedError) Error() string {
	return fmt.Sprintf("store %s is damaged (%s); nothing was changed. %s", e.Path, e.Reason, RecoveryAdvice(e.Path))
}

func (e *DamagedError) Unwrap() error { return e.Err }

// RecoveryAdvice is what to do about a damaged store at path.
func RecoveryAdvice(path string) string {
	return fmt.Sprintf("Restore it from a backup (stop the bot first; copy the backup over %s, with its -wal file if the backup has one). "+
		"Or, to start a new store on purpose, move it aside (mv %s %s.damaged): experiments are then numbered from #1 again, "+
		"while the old logs, run branches and results.tsv stay as they are.", path, path, path)
}

// FileState is what Probe found at a store's path.
type FileState int

const (
	FileMissing FileState = iota // no file: a new store
	FileEmpty                    // 0 bytes: new, or truncated (the caller decides)
	FilePresent                  // starts like an SQLite database
)

// sqliteMagic opens every SQLite database file.
var sqliteMagic = []byte("SQLite format 3\x00")

// Probe looks at the store file at path without creating or changing
// anything. An unreadable file, or one that is not an SQLite database, is a
// DamagedError.
func Probe(path string) (FileState, error) {
	info, err := os.Stat(path)
	switch {
	case errors.Is(err, os.ErrNotExist):
		return FileMissing, nil
	case err != nil:
		return 0, &DamagedError{Path: path, Reason: "cannot be read: " + err.Error(), Err: err}
	case info.IsDir():
		return 0, &DamagedError{Path: path, Reason: "is a directory"}
	case info.Size() == 0:
		return FileEmpty, nil
	}
	f, err := os.Open(path)
	if err != nil {
		return 0, &DamagedError{Path: path, Reason: "cannot be read: " + err.Error(), Err: err}
	}
	defer f.Close()
	head := make([]byte, len(sqliteMagic))
	if _, err := io.ReadFull(f, head); err != nil || !bytes.Equal(head, sqliteMagic) {
		return 0, &DamagedError{Path: path, Reason: fmt.Sprintf("not an SQLite database (%d bytes)", info.Size())}
	}
	return FilePresent, nil
}

// quickCheck runs PRAGMA quick_check on an opened store; anything but "ok"
// is a DamagedError.
func (db *DB) quickCheck(ctx context.Context) error {
	rows, err := db.db.QueryContext(ctx, "PRAGMA quick_check")
	if err != nil {
		return db.damaged("quick_check failed", err)
	}
	defer rows.Close()
	var problems []string
	for rows.Next() {
		var s string
		if err := rows.Scan(&s); err != nil {
			return db.damaged("quick_check failed", err)
		}
		if s != "ok" {
			problems = append(problems, s)
		}
	}
	if err := rows.Err(); err != nil {
		return db.damaged("quick_check failed", err)
	}
	if len(problems) > 0 {
		if len(problems) > 3 {
			problems = append(problems[:3], fmt.Sprintf("and %d more", len(problems)-3))
		}
		return &DamagedError{Path: db.path, Reason: "quick_check: " + strings.Join(problems, "; ")}
	}
	return nil
}

// damaged turns SQLite's "this is not a database" and "corrupt" errors into
// a DamagedError; other errors are returned as they are.
func (db *DB) damaged(what string, err error) error {
	var se *sqlite.Error
	if errors.As(err, &se) {
		switch se.Code() & 0xff {
		case sqlite3.SQLITE_NOTADB, sqlite3.SQLITE_CORRUPT:
			return &DamagedError{Path: db.path, Reason: what + ": " + se.Error(), Err: err}
		}
	}
	return err
}
