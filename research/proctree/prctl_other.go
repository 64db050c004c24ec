//go:build !linux

package proctree

import "errors"

var errNotLinux = errors.New("proctree: needs Linux")

func setSubreaper() error { return errNotLinux }

// SetNotDumpable is Linux-only; elsewhere it reports that it did nothing.
func SetNotDumpable() error { return errNotLinux }
